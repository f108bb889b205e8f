"""Side-by-side of polder and red-dwarf on the same Polis exports.

Run through benches/compare-red-dwarf.sh, which prepares the virtualenv, the
polder binary and the synthetic inputs. Each tool runs in its own child
process (so the peak memory of one does not count against the other); the
times are each tool's in-process time of the math, after the votes were read.
"""

import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLDER = ROOT / "target" / "release" / "polder"
TIMEOUT = int(os.environ.get("RED_DWARF_TIMEOUT", "600"))


def read_export(directory):
    # red-dwarf's pipeline refuses repeated votes on a cell; keep the latest,
    # as polder does (on equal times polder keeps the greater vote; same here).
    latest = {}
    with open(directory / "votes.csv", newline="") as f:
        for row in csv.DictReader(f):
            key = (int(row["voter-id"]), int(row["comment-id"]))
            value = (int(row["timestamp"]), int(row["vote"]))
            if key not in latest or value > latest[key]:
                latest[key] = value
    votes = [
        {"participant_id": p, "statement_id": s, "vote": v, "modified": t}
        for (p, s), (t, v) in latest.items()
    ]
    mod_out = []
    with open(directory / "comments.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("moderated", "").strip() == "-1":
                mod_out.append(int(row["comment-id"]))
    return votes, mod_out


def run_red_dwarf(directory, out):
    """Child process: time red-dwarf's pipeline after the imports and the read."""
    from reddwarf.implementations.polis import run_pipeline

    votes, mod_out = read_export(Path(directory))
    started = time.perf_counter()
    result = run_pipeline(votes=votes, mod_out_statement_ids=mod_out, random_state=0)
    seconds = time.perf_counter() - started
    df = result.participants_df
    groups = {
        str(pid): int(label)
        for pid, label, keep in zip(df.index, df["cluster_id"], df["to_cluster"])
        if keep and label is not None and str(label) != "<NA>"
    }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    Path(out).write_text(json.dumps({"seconds": seconds, "groups": groups, "peak_rss_kb": peak}))


def child(cmd):
    """Runs cmd; returns (exit status, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None, "timeout"
    return proc.returncode, err


def ari(a, b):
    from sklearn.metrics import adjusted_rand_score

    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return float("nan"), len(common)
    return adjusted_rand_score([a[k] for k in common], [b[k] for k in common]), len(common)


def compare(name, directory, work):
    polder_json = work / f"polder-{name}.json"
    status, err = child(
        [str(POLDER), "analyze", str(directory), "--mode", "once", "--format", "json",
         "--timings", "--output", str(polder_json)]
    )
    if status != 0:
        raise SystemExit(f"polder failed on {directory}: {err}")
    math_ms = float(err.split("math_ms=")[1].split()[0])
    report = json.loads(polder_json.read_text())
    polder_groups = {
        str(p["id"]): p["group_id"] for p in report["participants"] if p["group_id"] is not None
    }
    n_votes = int(err.split("votes=")[1].split()[0])
    polder_peak = int(err.split("peak_rss_kb=")[1].split()[0]) * 1024

    rd_json = work / f"red-dwarf-{name}.json"
    status, err = child([sys.executable, __file__, "--run", str(directory), str(rd_json)])
    row = {
        "name": name,
        "votes": n_votes,
        "polder_s": math_ms / 1e3,
        "polder_peak": polder_peak,
        "polder_groups": len(set(polder_groups.values())),
    }
    if status == 0:
        rd = json.loads(rd_json.read_text())
        row.update(
            rd_s=rd["seconds"],
            rd_peak=rd["peak_rss_kb"] * 1024,
            rd_groups=len(set(rd["groups"].values())),
        )
        row["ari"], row["common"] = ari(polder_groups, rd["groups"])
    else:
        row["rd_failed"] = "timeout after %d s" % TIMEOUT if err == "timeout" else "failed: " + err.strip()[-200:]
    return row


def markdown(rows, machine):
    lines = [
        "## polder and red-dwarf side by side",
        "",
        "`benches/compare-red-dwarf.sh` (red-dwarf 0.4.0, `run_pipeline` with `random_state=0`; "
        "polder `analyze --mode once`). Machine: " + machine + ".",
        "",
        "Times are each tool's in-process time of the math after the votes were read "
        "(polder: vote matrix and one update; red-dwarf: `run_pipeline`), measured one after the "
        "other in the same run on a shared machine. Peak memory is the child process's maximum RSS "
        "(imports and the read included). ARI compares the two tools' groups over the participants "
        "both cluster. red-dwarf has no base clusters (k-means runs on the participants) and no "
        "group-count smoother, so the groupings are not expected to be identical.",
        "",
        "| input | votes | polder | red-dwarf | red-dwarf / polder | polder peak | red-dwarf peak | groups polder / red-dwarf | ARI |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        if "rd_s" in r:
            lines.append(
                "| {name} | {votes:,} | {p:.3f} s | {rd:.3f} s | **{ratio:.0f}×** | {pp:.0f} MB | {rp:.0f} MB | {pg} / {rg} | {ari:.3f} |".format(
                    name=r["name"], votes=r["votes"], p=r["polder_s"], rd=r["rd_s"],
                    ratio=r["rd_s"] / r["polder_s"], pp=r["polder_peak"] / 1e6,
                    rp=r["rd_peak"] / 1e6, pg=r["polder_groups"], rg=r["rd_groups"], ari=r["ari"],
                )
            )
        else:
            lines.append(
                "| {name} | {votes:,} | {p:.3f} s | {fail} | – | {pp:.0f} MB | – | {pg} / – | – |".format(
                    name=r["name"], votes=r["votes"], p=r["polder_s"], fail=r["rd_failed"],
                    pp=r["polder_peak"] / 1e6, pg=r["polder_groups"],
                )
            )
    lines += [
        "",
        "The opendata conversations are from the Computational Democracy Project's open data: data "
        "gathered using the Polis software (compdemocracy.org/polis), sub-licensed under CC BY 4.0 "
        "with Attribution to The Computational Democracy Project. The synthetic sets are "
        "`polder synth --preset scale_1m|scale_10m --seed 1`.",
        "",
    ]
    return "\n".join(lines)


def write_section(path, name, body):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = f"{begin}\n{body}{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--run":
        run_red_dwarf(sys.argv[2], sys.argv[3])
        return
    machine, work, inputs = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    rows = []
    for spec in inputs:
        name, directory = spec.split("=", 1)
        print(f"{name} …", file=sys.stderr, flush=True)
        row = compare(name, Path(directory), work)
        print("  ", row, file=sys.stderr, flush=True)
        rows.append(row)
        # Rewritten after every input, so a long run leaves partial results.
        write_section(HERE / "RESULTS.md", "red-dwarf", markdown(rows, machine))
    print(markdown(rows, machine))


if __name__ == "__main__":
    main()
