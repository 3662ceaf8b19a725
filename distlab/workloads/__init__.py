"""Workloads, one module each; see base.py for the interface."""

from distlab.workloads.base import Op, Workload, load_workload, workload_names

__all__ = ["Op", "Workload", "load_workload", "workload_names"]
