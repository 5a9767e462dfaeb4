"""Peak resident memory of running processes, from /proc (Linux).

VmHWM is the process's high-water mark of resident memory since it started, so a sample
taken after a load run gives the peak reached during it.
"""

from pathlib import Path

PROC = Path("/proc")


def status_kb(pid, field):
    """A `kB` field of /proc/<pid>/status (e.g. VmHWM, VmRSS), or None if the process is gone."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    return None


def vm_hwm_kb(pid):
    return status_kb(pid, "VmHWM")


def children(pid):
    """The pids of a process's direct children."""
    found = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return sorted(set(found))


def peak_of_children_mb(pid):
    """(largest VmHWM among the process's children in MB, number of children), or (None, 0)."""
    peaks = [kb for kb in (vm_hwm_kb(child) for child in children(pid)) if kb is not None]
    return (max(peaks) / 1024 if peaks else None), len(peaks)


def parse_time_v(text):
    """{'max_rss_kb': int, 'elapsed_s': float, 'exit_status': int} from GNU time -v output."""
    found = {}
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "Maximum resident set size (kbytes)":
            found["max_rss_kb"] = int(value)
        elif key.startswith("Elapsed (wall clock) time"):
            seconds = 0.0
            for part in value.split(":"):
                seconds = seconds * 60 + float(part)
            found["elapsed_s"] = seconds
        elif key == "Exit status":
            found["exit_status"] = int(value)
    return found
