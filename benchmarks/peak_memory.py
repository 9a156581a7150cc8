"""Peak memory of a benchmark's child process, as code the child runs.

A child's ``ru_maxrss`` is not its own: Linux carries the parent's peak across ``exec`` into
it (a child of a 4 GB parent reports at least 4 GB). ``VmHWM`` in ``/proc/self/status`` is
the peak of the child's own address space; elsewhere ``ru_maxrss`` is all there is.
"""

from __future__ import annotations

# Defines peak_mb() in the child: its peak resident memory in MB.
PEAK_MB_CODE = """
import resource

def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
