//! The readable summary printed by `polder analyze --format text`.

use polder_core::Analysis;
use polder_core::repness::RepfulFor;
use polder_formats::Conversation;
use std::fmt::Write;

/// Groups are named A, B, C… in id order, as Polis shows them.
pub fn group_letter(index: usize) -> char {
    (b'A' + (index % 26) as u8) as char
}

fn percent(n: u32, of: u32) -> String {
    if of == 0 {
        "–".to_string()
    } else {
        format!("{:.0}%", 100.0 * f64::from(n) / f64::from(of))
    }
}

fn shorten(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Renders a plain-text summary of an analysis.
pub fn summary(conversation: &Conversation, a: &Analysis, updates: usize) -> String {
    let mut out = String::new();
    let text_of = |id| {
        conversation
            .statement(id)
            .map(|s| shorten(&s.text, 100))
            .unwrap_or_else(|| "(statement text unknown)".to_string())
    };
    let title = conversation.topic.as_deref().unwrap_or("Conversation");
    let votes: u64 = a.vote_counts.iter().map(|&v| u64::from(v)).sum();
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "{} participants, {} statements, {} votes; {} participants clustered ({} update{})",
        a.participants.len(),
        a.statements.len(),
        votes,
        a.n_in_conv(),
        updates,
        if updates == 1 { "" } else { "s" }
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "Opinion groups: {}", a.groups.len());
    for (g, (group, rep)) in a.groups.iter().zip(&a.repness).enumerate() {
        let _ = writeln!(
            out,
            "\nGroup {} — {} participants",
            group_letter(g),
            group.size
        );
        if rep.is_empty() {
            let _ = writeln!(out, "  (no representative statements)");
        }
        for r in rep {
            let (label, n, of, rest_n) = match r.repful_for {
                RepfulFor::Agree => ("agree", r.group.agree, r.group.seen, r.others.agree),
                RepfulFor::Disagree => (
                    "disagree",
                    r.group.disagree,
                    r.group.seen,
                    r.others.disagree,
                ),
            };
            let _ = writeln!(
                out,
                "  {:>4} {label:<8} (others {:>4})  #{:<4} {}",
                percent(n, of),
                percent(rest_n, r.others.seen),
                r.statement,
                text_of(r.statement)
            );
        }
    }
    for (title, list) in [
        ("Consensus — most agree", &a.consensus.agree),
        ("Consensus — most disagree", &a.consensus.disagree),
    ] {
        let _ = writeln!(out, "\n{title}:");
        if list.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for c in list {
            let _ = writeln!(
                out,
                "  {:>4} of {:<5} #{:<4} {}",
                percent(c.n_success, c.n_trials),
                c.n_trials,
                c.statement,
                text_of(c.statement)
            );
        }
    }
    out
}
