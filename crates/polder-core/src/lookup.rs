//! Finding the positions of ids in a sorted list of ids.

/// Calls `found` with the position in `ids` (sorted ascending) of each of
/// `members` that it holds, in the order of `members`.
///
/// Sorted members (stored clusters, the last update's clustered set) are
/// found by galloping forward from the last one found: they are spread over
/// all the ids, and a forward search reads a few neighbouring entries where
/// a binary search over a million ids misses the cache at every step.
/// Unsorted members (a state written by hand or by another tool) are
/// searched one by one.
pub(crate) fn each_position_of<M: Ord>(members: &[M], ids: &[M], mut found: impl FnMut(usize)) {
    if !members.is_sorted() {
        for m in members {
            if let Ok(at) = ids.binary_search(m) {
                found(at);
            }
        }
        return;
    }
    let mut from = 0;
    for m in members {
        let rest = &ids[from..];
        let mut reach = 1;
        while reach < rest.len() && rest[reach - 1] < *m {
            reach *= 2;
        }
        let at = from + rest[..reach.min(rest.len())].partition_point(|x| x < m);
        if ids.get(at) == Some(m) {
            found(at);
            from = at + 1;
        } else {
            from = at;
        }
    }
}
