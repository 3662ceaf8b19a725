# Fresh-machine entry points: `make demo` and `make test` set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NET_STAMP := $(VENV)/.installed-net

.PHONY: demo test lint bench system-deps net-deps clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench,cluster]'
	touch $(STAMP)

# Real third-party peers the tests talk to: redis-cli speaks RESP to kvs-server; Debian's
# chromium and its chromedriver load report pages and `distlab serve` in a real browser;
# iproute2 (ip, tc) and nftables build --mode net's namespaces and make its faults.
system-deps:
	@command -v redis-cli >/dev/null 2>&1 || { \
		echo "installing redis-tools (redis-cli) from Debian's packages"; \
		apt-get update -qq && apt-get install -y -qq redis-tools >/dev/null; }
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
		echo "installing chromium and chromium-driver from Debian's packages"; \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@{ command -v ip && command -v tc && command -v nft; } >/dev/null 2>&1 || { \
		echo "installing iproute2 and nftables (distlab test --mode net) from Debian's packages"; \
		apt-get update -qq && apt-get install -y -qq iproute2 nftables >/dev/null; }

# --mode net's delay shaper on kernels without tc netem (distlab/runtime/net/shaper.py):
# iptables feeds NFQUEUE, and pip builds netfilterqueue (a source package) against
# libnetfilter-queue-dev with a C compiler and Python's headers. Only `make test` needs it,
# so `make demo` still works on a machine with nothing but python3.
net-deps:
	@{ command -v iptables && command -v cc && test -e /usr/include/libnetfilter_queue/libnetfilter_queue.h \
	   && test -e "$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h"; \
	 } >/dev/null 2>&1 || { \
		echo "installing iptables, libnetfilter-queue-dev, gcc and python3-dev (the --mode net delay shaper) from Debian's packages"; \
		apt-get update -qq && apt-get install -y -qq iptables libnetfilter-queue-dev gcc python3-dev >/dev/null; }

# The test extras, netfilterqueue among them, after the Debian packages it builds against.
$(NET_STAMP): $(STAMP) | net-deps
	$(BIN)/pip install --quiet -e '.[dev,bench,cluster,net]'
	touch $(NET_STAMP)

demo: $(STAMP)
	$(BIN)/distlab demo
	@echo "next: the course. source .venv/bin/activate, then: distlab start messenger/echo  (all tracks: distlab tracks)"

# Two pytest workers (pytest-xdist), each taking whole files so module fixtures stay per
# file: about half the wall time on two cores, as many tests wait on real processes.
test: $(NET_STAMP) system-deps
	$(BIN)/ruff check distlab tests benchmarks
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/sim_speed.py

clean:
	rm -rf $(VENV) store .pytest_cache
