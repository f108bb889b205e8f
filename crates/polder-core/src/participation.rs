//! Which participants are clustered (Polis `in-conv`).
//!
//! The rule, from polismath `conversation.clj`:
//! 1. everyone clustered last time stays clustered (the set only grows);
//! 2. everyone with at least `min(min_votes, statements)` votes joins;
//! 3. while fewer than `greedy_n` are clustered, the participants with the
//!    most votes join, until there are `greedy_n` (or no one is left).
//!
//! Rule 3 is why early, light voters stay in Polis's clustering for good. In
//! step 3 Polis breaks ties between equal vote counts by hash-map order;
//! polder breaks them by ascending participant id, which is how Polis's own
//! participant numbering orders them in time.

use crate::matrix::VoteMatrix;
use crate::vote::ParticipantId;

/// Returns, for every row of `matrix`, whether that participant is clustered.
///
/// `previous` is the sorted list of participants clustered by the last update.
pub fn in_conversation(
    matrix: &VoteMatrix,
    previous: &[ParticipantId],
    min_votes: usize,
    greedy_n: usize,
) -> Vec<bool> {
    let n = matrix.n_participants();
    let threshold = min_votes.min(matrix.n_statements());
    let mut included: Vec<bool> = (0..n).map(|r| matrix.row_len(r) >= threshold).collect();
    crate::lookup::each_position_of(previous, matrix.participants(), |row| {
        included[row] = true;
    });
    let mut count = included.iter().filter(|&&x| x).count();
    if count < greedy_n {
        let mut rest: Vec<usize> = (0..n).filter(|&r| !included[r]).collect();
        // Stable: equal vote counts keep row (participant id) order.
        rest.sort_by_key(|&r| std::cmp::Reverse(matrix.row_len(r)));
        for r in rest {
            if count >= greedy_n {
                break;
            }
            included[r] = true;
            count += 1;
        }
    }
    included
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vote::{StatementId, Vote, VoteEvent};

    fn votes(per_participant: &[usize]) -> VoteMatrix {
        let mut events = Vec::new();
        for (p, &n) in per_participant.iter().enumerate() {
            for s in 0..n {
                events.push(VoteEvent {
                    participant: ParticipantId(p as u32),
                    statement: StatementId(s as u32),
                    vote: Vote::Agree,
                    timestamp: 0,
                });
            }
        }
        VoteMatrix::from_events(&events).unwrap()
    }

    #[test]
    fn threshold_is_capped_by_the_number_of_statements() {
        // Only 3 statements exist, so 3 votes suffice although min_votes is 7.
        let m = votes(&[3, 2, 3]);
        let inc = in_conversation(&m, &[], 7, 0);
        assert_eq!(inc, vec![true, false, true]);
    }

    #[test]
    fn greedy_fill_takes_the_most_active_first() {
        let m = votes(&[10, 1, 3, 2, 8]);
        let inc = in_conversation(&m, &[], 7, 4);
        assert_eq!(inc, vec![true, false, true, true, true]);
    }

    #[test]
    fn once_in_always_in() {
        let m = votes(&[10, 1, 9, 9, 9]);
        let inc = in_conversation(&m, &[ParticipantId(1)], 7, 0);
        assert!(inc[1]);
    }

    #[test]
    fn previous_set_is_found_sorted_or_not_and_gone_ids_are_skipped() {
        // Rows are participants 0..=5; 9 and 12 are not in the matrix.
        let m = votes(&[10, 1, 2, 1, 3, 1]);
        let expected = vec![true, true, false, true, false, true];
        let sorted = [1, 3, 5, 9, 12].map(ParticipantId);
        assert_eq!(in_conversation(&m, &sorted, 7, 0), expected);
        let unsorted = [12, 5, 1, 9, 3].map(ParticipantId);
        assert_eq!(in_conversation(&m, &unsorted, 7, 0), expected);
    }
}
