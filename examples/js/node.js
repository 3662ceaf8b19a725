#!/usr/bin/env node
// A Maelstrom node in plain JavaScript, written against the raw protocol:
// JSON lines on stdin/stdout, logs on stderr. It answers echo, unique-ids
// (generate) and broadcast (with retries until each peer acknowledges).
'use strict';
const readline = require('readline');

let nodeId = null;
let nodeIds = [];
let nextMsgId = 0;
let counter = 0;
const messages = new Set();
const own = [];            // messages clients gave this node
const acked = new Map();   // peer -> how many of `own` it acknowledged
const inFlight = new Map(); // msg_id -> {peer, end}

function send(dest, body) {
  process.stdout.write(JSON.stringify({ src: nodeId, dest, body }) + '\n');
}

function reply(msg, body) {
  send(msg.src, Object.assign({}, body, { in_reply_to: msg.body.msg_id }));
}

function flush() {
  const end = own.length;
  const busy = new Set([...inFlight.values()].map((f) => f.peer));
  for (const peer of nodeIds) {
    const start = acked.get(peer) || 0;
    if (peer === nodeId || busy.has(peer) || start >= end) continue;
    const msgId = ++nextMsgId;
    inFlight.set(msgId, { peer, end, sent: Date.now() });
    send(peer, { type: 'gossip', msg_id: msgId, messages: own.slice(start, end) });
  }
  for (const [msgId, f] of inFlight) {
    if (Date.now() - f.sent > 1000) inFlight.delete(msgId); // no answer: resend next flush
  }
}

const handlers = {
  init(msg) {
    nodeId = msg.body.node_id;
    nodeIds = msg.body.node_ids;
    setInterval(flush, 300);
    reply(msg, { type: 'init_ok' });
  },
  echo(msg) { reply(msg, { type: 'echo_ok', echo: msg.body.echo }); },
  generate(msg) { reply(msg, { type: 'generate_ok', id: `${nodeId}-${process.pid}-${++counter}` }); },
  topology(msg) { reply(msg, { type: 'topology_ok' }); },
  broadcast(msg) {
    const m = msg.body.message;
    if (!messages.has(m)) { messages.add(m); own.push(m); }
    reply(msg, { type: 'broadcast_ok' });
  },
  read(msg) { reply(msg, { type: 'read_ok', messages: [...messages] }); },
  gossip(msg) {
    for (const m of msg.body.messages) messages.add(m);
    reply(msg, { type: 'gossip_ok' });
  },
  gossip_ok(msg) {
    const f = inFlight.get(msg.body.in_reply_to);
    if (!f) return;
    inFlight.delete(msg.body.in_reply_to);
    acked.set(f.peer, Math.max(acked.get(f.peer) || 0, f.end));
  },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let msg;
  try { msg = JSON.parse(line); } catch (e) { console.error(`bad input: ${line}`); return; }
  const handler = handlers[msg.body.type];
  if (handler) handler(msg);
  else if (msg.body.msg_id !== undefined) {
    reply(msg, { type: 'error', code: 10, text: `unsupported: ${msg.body.type}` });
  }
});
