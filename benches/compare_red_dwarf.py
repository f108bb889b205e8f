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


def read_polis_groups(directory):
    """The groups Polis assigned (participants-votes.csv `group-id`, blank for
    unclustered participants), keyed like the votes' `voter-id`; None when the
    input carries no Polis groups (the synthetic sets)."""
    path = directory / "participants-votes.csv"
    if not path.exists():
        return None
    with open(path, newline="") as f:
        return {
            str(int(row["participant"])): int(row["group-id"])
            for row in csv.DictReader(f)
            if row["group-id"].strip() != ""
        }


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


def run_polder(directory, out):
    """One polder child: (seconds of math, peak bytes, votes, groups by participant)."""
    status, err = child(
        [str(POLDER), "analyze", str(directory), "--mode", "once", "--format", "json",
         "--timings", "--output", str(out)]
    )
    if status != 0:
        raise SystemExit(f"polder failed on {directory}: {err}")
    math_ms = float(err.split("math_ms=")[1].split()[0])
    report = json.loads(out.read_text())
    groups = {
        str(p["id"]): p["group_id"] for p in report["participants"] if p["group_id"] is not None
    }
    n_votes = int(err.split("votes=")[1].split()[0])
    peak = int(err.split("peak_rss_kb=")[1].split()[0]) * 1024
    return math_ms / 1e3, peak, n_votes, groups


# Inputs under this many votes run RUNS times per tool, alternating, and
# report the median time: one run of a few milliseconds is mostly noise.
SMALL = 1_000_000
RUNS = int(os.environ.get("RUNS", "3"))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def compare(name, directory, work):
    polder_json = work / f"polder-{name}.json"
    rd_json = work / f"red-dwarf-{name}.json"
    seconds, polder_peak, n_votes, polder_groups = run_polder(directory, polder_json)
    polder_times, rd_times, rd_peaks = [seconds], [], []
    status, err = child([sys.executable, __file__, "--run", str(directory), str(rd_json)])
    if status == 0:
        rd = json.loads(rd_json.read_text())
        rd_times.append(rd["seconds"])
        rd_peaks.append(rd["peak_rss_kb"] * 1024)
    runs = RUNS if n_votes < SMALL else 1
    for _ in range(runs - 1):
        polder_times.append(run_polder(directory, polder_json)[0])
        if status == 0:
            again, _ = child([sys.executable, __file__, "--run", str(directory), str(rd_json)])
            if again == 0:
                more = json.loads(rd_json.read_text())
                rd_times.append(more["seconds"])
                rd_peaks.append(more["peak_rss_kb"] * 1024)
    row = {
        "name": name,
        "votes": n_votes,
        "runs": len(polder_times),
        "polder_s": median(polder_times),
        "polder_peak": polder_peak,
        "polder_groups": len(set(polder_groups.values())),
    }
    # The generator writes its planted groups into `group-id`; they are not
    # Polis's (the scale section of RESULTS.md compares with them).
    polis_groups = None if name.startswith("synthetic") else read_polis_groups(directory)
    if polis_groups is not None:
        row["polis_groups"] = len(set(polis_groups.values()))
        row["ari_polder_polis"], row["common_polder_polis"] = ari(polder_groups, polis_groups)
    if status == 0:
        row.update(
            rd_s=median(rd_times),
            rd_peak=max(rd_peaks),
            rd_groups=len(set(rd["groups"].values())),
        )
        row["ari"], row["common"] = ari(polder_groups, rd["groups"])
        if polis_groups is not None:
            row["ari_rd_polis"], row["common_rd_polis"] = ari(rd["groups"], polis_groups)
    else:
        row["rd_failed"] = "timeout after %d s" % TIMEOUT if err == "timeout" else "failed: " + err.strip()[-200:]
    return row


TARGET = 0.9


def fmt_ari(r, key):
    value = r.get(key)
    return "–" if value is None or value != value else f"{value:.3f}"


def target_sentence(rows):
    """Which inputs the ARI target applies to, and whether polder meets it, from the data."""
    with_polis = [r for r in rows if "ari_rd_polis" in r and r["ari_rd_polis"] == r["ari_rd_polis"]]
    if not with_polis:
        return "No input with Polis groups and a red-dwarf result in this run, so the target applies nowhere."
    qualify = [r for r in with_polis if r["ari_rd_polis"] >= TARGET]
    if not qualify:
        return (
            f"In this run red-dwarf reaches ARI ≥ {TARGET} with Polis on none of the "
            f"{len(with_polis)} inputs with Polis groups, so the target applies to none of them."
        )
    met = [r for r in qualify if r["ari"] >= TARGET]
    missed = [r for r in qualify if r["ari"] < TARGET]
    text = "In this run red-dwarf agrees with Polis on " + ", ".join(
        "{} ({:.3f})".format(r["name"], r["ari_rd_polis"]) for r in qualify
    ) + "; "
    ari_there = " (ARI polder–red-dwarf " + ", ".join(
        "{} {:.3f}".format(r["name"], r["ari"]) for r in qualify
    ) + ")."
    if not missed:
        text += "polder meets ARI ≥ {} with red-dwarf on {}".format(
            TARGET, "it" if len(qualify) == 1 else "all of them"
        )
    elif not met:
        text += "polder misses ARI ≥ {} with red-dwarf {}".format(
            TARGET, "there" if len(qualify) == 1 else "on all of them"
        )
    else:
        text += "polder meets ARI ≥ {} with red-dwarf on {} and misses it on {}".format(
            TARGET, ", ".join(r["name"] for r in met), ", ".join(r["name"] for r in missed)
        )
    return text + ari_there


def markdown(rows, machine):
    lines = [
        "## polder and red-dwarf side by side",
        "",
        "`benches/compare-red-dwarf.sh` (red-dwarf 0.4.0, `run_pipeline` with `random_state=0`; "
        "polder `analyze --mode once`). Machine: " + machine + ".",
        "",
        "Times are each tool's in-process time of the math after the votes were read "
        "(polder: vote matrix and one update; red-dwarf: `run_pipeline`), measured one after the "
        f"other in the same run on a shared machine; inputs under {SMALL:,} votes run {RUNS} times "
        "per tool, alternating, each in a new process, and show the median (*runs*). Peak memory is the child process's maximum RSS "
        "(imports and the read included). ARI compares the two tools' groups over the participants "
        "both cluster. red-dwarf has no base clusters (k-means runs on the participants) and no "
        "group-count smoother, so the groupings are not expected to be identical.",
        "",
        "For the opendata conversations, whose export carries the group Polis assigned to each "
        "clustered participant (`participants-votes.csv`, column `group-id`), ARI polder–Polis and "
        "ARI red-dwarf–Polis compare each tool's groups with Polis's, again over the participants "
        "both sides cluster; the synthetic sets have no Polis groups (–). The target is ARI ≥ "
        f"{TARGET} between polder and red-dwarf, required only where red-dwarf agrees with Polis "
        f"(ARI red-dwarf–Polis ≥ {TARGET}). " + target_sentence(rows),
        "",
        "| input | votes | runs | polder | red-dwarf | red-dwarf / polder | polder peak | red-dwarf peak "
        "| groups polder / red-dwarf / Polis | ARI polder–red-dwarf | ARI polder–Polis | ARI red-dwarf–Polis |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        if "rd_s" in r:
            lines.append(
                "| {name} | {votes:,} | {runs} | {p:.3f} s | {rd:.3f} s | **{ratio:.0f}×** | {pp:.0f} MB | {rp:.0f} MB "
                "| {pg} / {rg} / {sg} | {ari} | {ap} | {ar} |".format(
                    name=r["name"], votes=r["votes"], runs=r["runs"], p=r["polder_s"], rd=r["rd_s"],
                    ratio=r["rd_s"] / r["polder_s"], pp=r["polder_peak"] / 1e6,
                    rp=r["rd_peak"] / 1e6, pg=r["polder_groups"], rg=r["rd_groups"],
                    sg=r.get("polis_groups", "–"), ari=fmt_ari(r, "ari"),
                    ap=fmt_ari(r, "ari_polder_polis"), ar=fmt_ari(r, "ari_rd_polis"),
                )
            )
        else:
            lines.append(
                "| {name} | {votes:,} | {runs} | {p:.3f} s | {fail} | – | {pp:.0f} MB | – | {pg} / – / {sg} | – | {ap} | – |".format(
                    name=r["name"], votes=r["votes"], runs=r["runs"], p=r["polder_s"], fail=r["rd_failed"],
                    pp=r["polder_peak"] / 1e6, pg=r["polder_groups"],
                    sg=r.get("polis_groups", "–"), ap=fmt_ari(r, "ari_polder_polis"),
                )
            )
    lines += [
        "",
        "The opendata conversations are from the Computational Democracy Project's open data: data "
        "gathered using the Polis software (compdemocracy.org/polis), sub-licensed under CC BY 4.0 "
        "with Attribution to The Computational Democracy Project."
        + (" The synthetic sets are `polder synth --preset scale_1m|scale_10m --seed 1`."
           if any(r["name"].startswith("synthetic") for r in rows) else ""),
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
