//! The sparse participant × statement vote matrix.
//!
//! Rows are participants in ascending id order, columns are statements in
//! ascending id order, so the matrix is the same whatever order the votes
//! arrived in. Storage is compressed sparse rows with `u32` column indices and
//! `i8` votes: five bytes a vote plus one offset a participant. Missing cells
//! ("not seen") are simply absent; nothing dense of size participants ×
//! statements is ever allocated.

use crate::error::MathError;
use crate::tally::{Counts, Tally};
use crate::vote::{ParticipantId, StatementId, Vote, VoteEvent};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

/// Votes packed into one word while the matrix is built:
/// participant (32 bits) | statement (24 bits) | vote + 1 (8 bits).
type PackedVote = u64;

fn pack(participant: ParticipantId, statement: StatementId, vote: Vote) -> PackedVote {
    (u64::from(participant.0) << 32) | (u64::from(statement.0) << 8) | (vote.value() + 1) as u64
}

fn cell_key(packed: PackedVote) -> u64 {
    packed >> 8
}

fn unpack(packed: PackedVote) -> (u32, u32, i8) {
    (
        (packed >> 32) as u32,
        ((packed >> 8) & u64::from(StatementId::MAX)) as u32,
        (packed & 0xff) as i8 - 1,
    )
}

/// Sparse participant × statement matrix of the latest vote in every cell.
///
/// The rows live in a shared `base` (compressed rows, built once) and, after
/// a [`merge`](Self::merge), in a small `top` of the rows that took new
/// votes: a live update adds a small share of the votes, and copying every
/// vote into a new matrix (a quarter of a gigabyte of fresh memory at 50 M
/// votes) cost more than the rest of the merge. Once the rows in `top` hold
/// an eighth as many votes as `base`, a merge builds a new `base`.
#[derive(Debug, Clone, Default)]
pub struct VoteMatrix {
    participants: Vec<ParticipantId>,
    statements: Vec<StatementId>,
    /// Rows shared with the matrices this one was merged from or into.
    base: Arc<Rows>,
    /// Rows that differ from `base`'s, for a merged matrix.
    top: Rows,
    /// Where each row is, for a merged matrix: `TOP | i` for row `i` of
    /// `top`, else a row of `base`. Empty when the rows are `base`'s, in
    /// order.
    layout: Vec<u32>,
    n_votes: usize,
    /// Votes per column, counted on first use; a merge carries them over
    /// by the rows that changed instead of counting every vote again.
    counts: OnceLock<Vec<Counts>>,
}

/// Marks a `layout` entry that points into `top`.
const TOP: u32 = 1 << 31;

/// Compressed sparse rows: row `r` is `columns[row_offsets[r]..row_offsets[r + 1]]`
/// with the matching `values`.
#[derive(Debug, Clone)]
struct Rows {
    row_offsets: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<i8>,
}

impl Default for Rows {
    fn default() -> Self {
        Rows {
            row_offsets: vec![0],
            columns: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl Rows {
    fn len(&self) -> usize {
        self.row_offsets.len() - 1
    }

    fn row(&self, row: usize) -> (&[u32], &[i8]) {
        let range = self.row_offsets[row]..self.row_offsets[row + 1];
        (&self.columns[range.clone()], &self.values[range])
    }

    /// Appends a row.
    fn push(&mut self, columns: &[u32], values: &[i8]) {
        self.columns.extend_from_slice(columns);
        self.values.extend_from_slice(values);
        self.row_offsets.push(self.values.len());
    }

    fn heap_bytes(&self) -> usize {
        self.row_offsets.capacity() * std::mem::size_of::<usize>()
            + self.columns.capacity() * 4
            + self.values.capacity()
    }
}

/// Matrices are equal when their votes are, however the rows are stored
/// and whether the column counts have been taken yet.
impl PartialEq for VoteMatrix {
    fn eq(&self, other: &Self) -> bool {
        self.participants == other.participants
            && self.statements == other.statements
            && self.n_votes == other.n_votes
            && (0..self.n_participants()).all(|r| self.row(r) == other.row(r))
    }
}

impl Eq for VoteMatrix {}

/// Collects votes and builds a [`VoteMatrix`]; the last vote pushed for a cell wins.
///
/// Use it to stream votes that are already resolved (one current vote per
/// cell, e.g. from a database) or that arrive in the order they were cast.
/// Votes pushed in ascending (participant, statement) order go straight into
/// the compressed rows (five bytes a vote, no sort); the first vote out of
/// that order switches the builder to packed words (eight bytes a vote) that
/// are sorted when it finishes.
#[derive(Debug, Default)]
pub struct VoteMatrixBuilder {
    /// Rows built so far while the input is in order.
    direct: DirectRows,
    /// Every vote as a packed word, once the input was out of order.
    packed: Vec<PackedVote>,
    sorted: bool,
    pushed: usize,
}

/// Compressed rows with raw statement ids, for input that arrives sorted.
#[derive(Debug, Default)]
struct DirectRows {
    participants: Vec<ParticipantId>,
    row_offsets: Vec<usize>,
    statement_ids: Vec<u32>,
    values: Vec<i8>,
}

impl DirectRows {
    fn last_cell(&self) -> Option<(u32, u32)> {
        Some((self.participants.last()?.0, *self.statement_ids.last()?))
    }

    /// The rows as packed words, in order (`row_offsets` holds each row's start).
    fn packed(&self) -> Vec<PackedVote> {
        let mut out = Vec::with_capacity(self.values.len());
        for (row, p) in self.participants.iter().enumerate() {
            let end = self
                .row_offsets
                .get(row + 1)
                .copied()
                .unwrap_or(self.values.len());
            for i in self.row_offsets[row]..end {
                out.push(
                    (u64::from(p.0) << 32)
                        | (u64::from(self.statement_ids[i]) << 8)
                        | (self.values[i] + 1) as u64,
                );
            }
        }
        out
    }
}

impl VoteMatrixBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        VoteMatrixBuilder {
            sorted: true,
            ..Default::default()
        }
    }

    /// An empty builder with room for `votes` votes (in order).
    pub fn with_capacity(votes: usize) -> Self {
        let mut builder = Self::new();
        builder.direct.statement_ids.reserve_exact(votes);
        builder.direct.values.reserve_exact(votes);
        builder
    }

    /// Adds one vote; it replaces any vote pushed earlier for the same cell.
    pub fn push(
        &mut self,
        participant: ParticipantId,
        statement: StatementId,
        vote: Vote,
    ) -> Result<(), MathError> {
        if statement.0 > StatementId::MAX {
            return Err(MathError::StatementIdTooLarge(statement));
        }
        self.pushed += 1;
        if self.sorted {
            let cell = (participant.0, statement.0);
            match self.direct.last_cell() {
                Some(last) if cell == last => {
                    // The later vote for the same cell wins.
                    if let Some(v) = self.direct.values.last_mut() {
                        *v = vote.value();
                    }
                    return Ok(());
                }
                Some(last) if cell < last => {
                    self.packed = self.direct.packed();
                    self.direct = DirectRows::default();
                    self.sorted = false;
                }
                last => {
                    if last.is_none_or(|(p, _)| p != participant.0) {
                        self.direct.participants.push(participant);
                        self.direct.row_offsets.push(self.direct.values.len());
                    }
                    self.direct.statement_ids.push(statement.0);
                    self.direct.values.push(vote.value());
                    return Ok(());
                }
            }
        }
        self.packed.push(pack(participant, statement, vote));
        Ok(())
    }

    /// Number of votes pushed so far (before duplicates are resolved).
    pub fn len(&self) -> usize {
        self.pushed
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Resolves duplicates and builds the matrix.
    pub fn finish(mut self) -> VoteMatrix {
        if self.sorted {
            return VoteMatrix::from_direct(self.direct);
        }
        // Stable, so that among equal cells the push order survives.
        self.packed.par_sort_by_key(|&p| cell_key(p));
        // Keep the last of each run of equal cells.
        let mut write = 0;
        for read in 0..self.packed.len() {
            let current = self.packed[read];
            if write > 0 && cell_key(self.packed[write - 1]) == cell_key(current) {
                self.packed[write - 1] = current;
            } else {
                self.packed[write] = current;
                write += 1;
            }
        }
        self.packed.truncate(write);
        self.packed.shrink_to_fit();
        VoteMatrix::from_sorted_unique(&self.packed)
    }
}

/// The distinct values of `ids`, ascending, via a bitmap over the id range
/// (at most 2 MB, as statement ids are below 2^24) rather than a sorted copy
/// of every vote.
fn distinct_ids(ids: impl Iterator<Item = u32> + Clone) -> Vec<u32> {
    let Some(max) = ids.clone().max() else {
        return Vec::new();
    };
    let mut seen = vec![0u64; max as usize / 64 + 1];
    for id in ids {
        seen[id as usize / 64] |= 1 << (id % 64);
    }
    let mut out = Vec::new();
    for (w, &word) in seen.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            out.push(w as u32 * 64 + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
    out
}

/// Indices of `events` ordered by (participant, statement, timestamp, vote).
///
/// Participant ids are dense in practice (Polis numbers them from 0), so a
/// counting sort by participant followed by a sort of each participant's few
/// events beats a comparison sort of every event: on a 50 k-vote export it
/// is a fifth of the time. Sparse ids (more than four id values per event)
/// fall back to one parallel sort.
fn cell_order(events: &[VoteEvent]) -> Vec<usize> {
    let key = |i: &usize| {
        let e = &events[*i];
        (e.participant, e.statement, e.timestamp, e.vote)
    };
    let Some(max_id) = events.iter().map(|e| e.participant.0).max() else {
        return Vec::new();
    };
    let n = events.len();
    let dense = (max_id as usize) < 4 * n + 1024;
    let mut order: Vec<usize> = Vec::with_capacity(n);
    if !dense {
        order.extend(0..n);
        order.par_sort_unstable_by_key(key);
        return order;
    }
    // Start of each participant's run in `order`.
    let mut starts = vec![0usize; max_id as usize + 2];
    for e in events {
        starts[e.participant.0 as usize + 1] += 1;
    }
    for p in 1..starts.len() {
        starts[p] += starts[p - 1];
    }
    let mut next = starts.clone();
    order.resize(n, 0);
    for (i, e) in events.iter().enumerate() {
        let slot = &mut next[e.participant.0 as usize];
        order[*slot] = i;
        *slot += 1;
    }
    // Each participant's run, sorted by the rest of the key; the runs are
    // independent, so big inputs sort them in parallel.
    let mut runs: Vec<&mut [usize]> = Vec::with_capacity(starts.len());
    let mut rest = order.as_mut_slice();
    for w in starts.windows(2) {
        let (run, tail) = rest.split_at_mut(w[1] - w[0]);
        if run.len() > 1 {
            runs.push(run);
        }
        rest = tail;
    }
    runs.par_iter_mut()
        .with_min_len(crate::parallel::MIN_ITEMS_PER_TASK / 16)
        .for_each(|run| run.sort_unstable_by_key(key));
    drop(runs);
    order
}

impl VoteMatrix {
    /// A matrix without votes.
    pub fn empty() -> Self {
        VoteMatrix::default()
    }

    /// A matrix whose rows are `rows`, in order.
    fn plain(participants: Vec<ParticipantId>, statements: Vec<StatementId>, rows: Rows) -> Self {
        VoteMatrix {
            participants,
            statements,
            n_votes: rows.values.len(),
            base: Arc::new(rows),
            top: Rows::default(),
            layout: Vec::new(),
            counts: OnceLock::new(),
        }
    }

    /// Builds the matrix from vote events in any order: for every cell the
    /// latest event wins (see [`VoteEvent`] for ties).
    pub fn from_events(events: &[VoteEvent]) -> Result<Self, MathError> {
        // Sorted by cell, and within a cell by (time, vote), the latest vote
        // of each cell comes last: the builder keeps it and, since the cells
        // arrive in order, builds the rows directly without a second sort.
        let order = cell_order(events);
        let mut builder = VoteMatrixBuilder::with_capacity(events.len());
        for i in order {
            let event = &events[i];
            builder.push(event.participant, event.statement, event.vote)?;
        }
        Ok(builder.finish())
    }

    /// Finishes rows built in order: raw statement ids become column
    /// indices in place, so no second copy of the votes is made.
    fn from_direct(direct: DirectRows) -> Self {
        let DirectRows {
            participants,
            mut row_offsets,
            statement_ids: mut columns,
            values,
        } = direct;
        let statement_ids = distinct_ids(columns.iter().copied());
        let column_of = ColumnLookup::new(&statement_ids);
        columns
            .par_iter_mut()
            .with_min_len(crate::parallel::MIN_ITEMS_PER_TASK)
            .for_each(|c| *c = column_of.get(*c));
        drop(column_of);
        row_offsets.push(values.len());
        let mut participants = participants;
        participants.shrink_to_fit();
        let mut rows = Rows {
            row_offsets,
            columns,
            values,
        };
        rows.row_offsets.shrink_to_fit();
        rows.columns.shrink_to_fit();
        rows.values.shrink_to_fit();
        let statements = statement_ids.into_iter().map(StatementId).collect();
        VoteMatrix::plain(participants, statements, rows)
    }

    fn from_sorted_unique(packed: &[PackedVote]) -> Self {
        let statement_ids = distinct_ids(packed.iter().map(|&p| unpack(p).1));
        let column_of = ColumnLookup::new(&statement_ids);

        let mut participants = Vec::new();
        let mut row_offsets = vec![0];
        for (i, &p) in packed.iter().enumerate() {
            let pid = unpack(p).0;
            if participants.last() != Some(&ParticipantId(pid)) {
                if !participants.is_empty() {
                    row_offsets.push(i);
                }
                participants.push(ParticipantId(pid));
            }
        }
        if !participants.is_empty() {
            row_offsets.push(packed.len());
        }
        let columns = packed
            .par_iter()
            .with_min_len(crate::parallel::MIN_ITEMS_PER_TASK)
            .map(|&p| column_of.get(unpack(p).1))
            .collect();
        let values = packed
            .par_iter()
            .with_min_len(crate::parallel::MIN_ITEMS_PER_TASK)
            .map(|&p| unpack(p).2)
            .collect();
        let statements = statement_ids.into_iter().map(StatementId).collect();
        VoteMatrix::plain(
            participants,
            statements,
            Rows {
                row_offsets,
                columns,
                values,
            },
        )
    }

    /// Number of participant rows (Polis `n`).
    pub fn n_participants(&self) -> usize {
        self.participants.len()
    }

    /// Number of statement columns (Polis `n-cmts`).
    pub fn n_statements(&self) -> usize {
        self.statements.len()
    }

    /// Number of non-missing cells.
    pub fn n_votes(&self) -> usize {
        self.n_votes
    }

    /// Participant ids in row order (ascending).
    pub fn participants(&self) -> &[ParticipantId] {
        &self.participants
    }

    /// Statement ids in column order (ascending; Polis `tids`).
    pub fn statements(&self) -> &[StatementId] {
        &self.statements
    }

    /// The row of `participant`, if they have voted.
    pub fn row_of(&self, participant: ParticipantId) -> Option<usize> {
        self.participants.binary_search(&participant).ok()
    }

    /// The column of `statement`, if it has been voted on.
    pub fn column_of(&self, statement: StatementId) -> Option<usize> {
        self.statements.binary_search(&statement).ok()
    }

    /// Columns and export-sign values (-1, 0, 1) of one row, columns ascending.
    #[inline]
    pub fn row(&self, row: usize) -> (&[u32], &[i8]) {
        match self.layout.get(row) {
            None => self.base.row(row),
            Some(&at) if at & TOP != 0 => self.top.row((at & !TOP) as usize),
            Some(&at) => self.base.row(at as usize),
        }
    }

    /// Number of votes in one row.
    pub fn row_len(&self, row: usize) -> usize {
        self.row(row).0.len()
    }

    /// The vote in one cell.
    pub fn get(&self, participant: ParticipantId, statement: StatementId) -> Option<Vote> {
        let row = self.row_of(participant)?;
        let column = self.column_of(statement)? as u32;
        let (columns, values) = self.row(row);
        let at = columns.binary_search(&column).ok()?;
        Vote::from_value(i64::from(values[at]))
    }

    /// The votes of the participants `keep` accepts (e.g. one cohort, or
    /// everyone but suspect accounts), as a matrix of their own.
    pub fn retain_participants(&self, keep: impl Fn(ParticipantId) -> bool) -> VoteMatrix {
        let mut builder = VoteMatrixBuilder::new();
        for (participant, statement, vote) in self.iter().filter(|&(p, _, _)| keep(p)) {
            // Ids come from a matrix, so they are within range: push cannot fail.
            let _ = builder.push(participant, statement, vote);
        }
        builder.finish()
    }

    /// Iterates every vote as (participant, statement, vote) in row order.
    pub fn iter(&self) -> impl Iterator<Item = (ParticipantId, StatementId, Vote)> + '_ {
        (0..self.n_participants()).flat_map(move |row| {
            let (columns, values) = self.row(row);
            columns.iter().zip(values).map(move |(&c, &v)| {
                let vote = match v {
                    1 => Vote::Agree,
                    -1 => Vote::Disagree,
                    _ => Vote::Pass,
                };
                (self.participants[row], self.statements[c as usize], vote)
            })
        })
    }

    /// Heap bytes held by the matrix, counting in full the rows it shares
    /// with other matrices.
    pub fn heap_bytes(&self) -> usize {
        self.participants.capacity() * 4
            + self.statements.capacity() * 4
            + self.base.heap_bytes()
            + self.top.heap_bytes()
            + self.layout.capacity() * 4
    }

    /// A new matrix with `events` applied on top of this one.
    ///
    /// The events are taken to be newer than every vote already in the
    /// matrix; among themselves the latest wins as in [`Self::from_events`].
    /// The cost is one pass over the participants and the rows that take
    /// new votes (see [`Self::merge`]).
    pub fn with_events(&self, events: &[VoteEvent]) -> Result<Self, MathError> {
        Ok(self.merge(&VoteMatrix::from_events(events)?))
    }

    /// A new matrix holding the cells of both, `newer` winning where both vote.
    pub fn merge(&self, newer: &VoteMatrix) -> VoteMatrix {
        if newer.n_votes() == 0 {
            return self.clone();
        }
        if self.n_votes() == 0 {
            return newer.clone();
        }
        let (statements, old_cols, new_cols) = union_with_maps(&self.statements, &newer.statements);
        let (participants, old_rows, new_rows) =
            union_with_maps(&self.participants, &newer.participants);
        let source = row_sources(participants.len(), &old_rows, &new_rows);
        let changed: Vec<usize> = (0..source.len())
            .filter(|&r| source[r].1.is_some())
            .collect();
        // When the new statements all come after the old ones (ids grow
        // with time), old column indices stay as they are: unchanged rows
        // can stay where they are, or be copied in blocks.
        let same_columns = old_cols.iter().enumerate().all(|(i, &c)| c as usize == i);
        // The votes the layered result's `top` would hold, at most.
        let top_votes = self.top.values.len()
            + newer.n_votes()
            + changed
                .iter()
                .filter_map(|&r| source[r].0)
                .map(|o| self.row_len(o as usize))
                .sum::<usize>();
        // Layout entries keep one bit for `TOP`.
        let addressable = participants.len() < TOP as usize;
        let plan = MergePlan {
            ids: (participants, statements),
            same_columns,
            source: &source,
            old_cols: &old_cols,
            new_cols: &new_cols,
        };
        let merged =
            if same_columns && addressable && top_votes * LAYER_SHARE <= self.base.values.len() {
                self.layered(newer, plan)
            } else {
                self.flat(newer, plan)
            };
        if let Some(before) = self.counts.get() {
            let counts = merged.counts_after(before, &old_cols, self, &source, &changed);
            // A fresh lock: setting it cannot fail.
            let _ = merged.counts.set(counts);
        }
        merged
    }

    /// The merge as `base` shared with this matrix and a `top` of the rows
    /// that took new votes (and of this matrix's own `top` rows): columns
    /// keep their indices (`same_columns` in [`Self::merge`]).
    fn layered(&self, newer: &VoteMatrix, plan: MergePlan) -> VoteMatrix {
        let (source, old_cols, new_cols) = (plan.source, plan.old_cols, plan.new_cols);
        let (participants, statements) = plan.ids;
        let mut top = Rows::default();
        let mut layout = Vec::with_capacity(source.len());
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        let mut n_votes = 0;
        for &(old, new) in source {
            let at = match (old, new) {
                (Some(o), None) => match self.layout.get(o as usize) {
                    Some(&at) if at & TOP == 0 => at,
                    None => o,
                    Some(_) => {
                        let (c, v) = self.row(o as usize);
                        top.push(c, v);
                        TOP | (top.len() - 1) as u32
                    }
                },
                _ => {
                    let old = old.map(|r| self.row(r as usize)).unwrap_or((&[], &[]));
                    let new = new.map(|r| newer.row(r as usize)).unwrap_or((&[], &[]));
                    let len = old.0.len() + new.0.len();
                    cols.resize(len, 0);
                    vals.resize(len, 0);
                    let n = merge_row(old, old_cols, new, new_cols, &mut cols, &mut vals);
                    top.push(&cols[..n], &vals[..n]);
                    TOP | (top.len() - 1) as u32
                }
            };
            n_votes += if at & TOP != 0 {
                top.row((at & !TOP) as usize).0.len()
            } else {
                self.base.row(at as usize).0.len()
            };
            layout.push(at);
        }
        VoteMatrix {
            participants,
            statements,
            base: Arc::clone(&self.base),
            top,
            layout,
            n_votes,
            counts: OnceLock::new(),
        }
    }

    /// The merge as a new plain matrix: every vote copied once.
    fn flat(&self, newer: &VoteMatrix, plan: MergePlan) -> VoteMatrix {
        let (source, old_cols, new_cols) = (plan.source, plan.old_cols, plan.new_cols);
        let (participants, statements) = plan.ids;
        // Row lengths of the merged matrix.
        let lengths: Vec<usize> = source
            .par_iter()
            .with_min_len(crate::parallel::MIN_ITEMS_PER_TASK)
            .map(|&(old, new)| {
                let a = old.map(|r| self.row(r as usize).0);
                let b = new.map(|r| newer.row(r as usize).0);
                match (a, b) {
                    (Some(a), Some(b)) => merged_len(a, old_cols, b, new_cols),
                    (Some(a), None) => a.len(),
                    (None, Some(b)) => b.len(),
                    (None, None) => 0,
                }
            })
            .collect();
        let mut row_offsets = Vec::with_capacity(lengths.len() + 1);
        let mut total = 0;
        row_offsets.push(0);
        for len in &lengths {
            total += len;
            row_offsets.push(total);
        }
        let mut columns = vec![0u32; total];
        let mut values = vec![0i8; total];

        // Fill rows in parallel blocks, each writing its own slice.
        let blocks = crate::parallel::chunks(participants.len());
        let mut jobs = Vec::with_capacity(blocks.len());
        let (mut col_rest, mut val_rest) = (&mut columns[..], &mut values[..]);
        for block in blocks {
            let len = row_offsets[block.end] - row_offsets[block.start];
            let (c, cr) = col_rest.split_at_mut(len);
            let (v, vr) = val_rest.split_at_mut(len);
            col_rest = cr;
            val_rest = vr;
            jobs.push((block, c, v));
        }
        // With old column indices unchanged, a run of rows without new
        // votes from consecutive rows of a plain matrix is one block copy.
        let same_columns = plan.same_columns;
        let plain = self.layout.is_empty();
        let base = &self.base;
        jobs.into_par_iter().for_each(|(block, cols, vals)| {
            let mut at = 0;
            let mut row = block.start;
            while row < block.end {
                let (old, new) = source[row];
                if let (true, true, Some(first), None) = (same_columns, plain, old, new) {
                    // Rows `row..end` come from consecutive old rows.
                    let mut end = row + 1;
                    while end < block.end && source[end] == (Some(first + (end - row) as u32), None)
                    {
                        end += 1;
                    }
                    let from = base.row_offsets[first as usize]
                        ..base.row_offsets[first as usize + end - row];
                    let len = from.len();
                    cols[at..at + len].copy_from_slice(&base.columns[from.clone()]);
                    vals[at..at + len].copy_from_slice(&base.values[from]);
                    at += len;
                    row = end;
                    continue;
                }
                let old = old.map(|r| self.row(r as usize)).unwrap_or((&[], &[]));
                let new = new.map(|r| newer.row(r as usize)).unwrap_or((&[], &[]));
                at += merge_row(
                    old,
                    old_cols,
                    new,
                    new_cols,
                    &mut cols[at..],
                    &mut vals[at..],
                );
                row += 1;
            }
        });
        VoteMatrix::plain(
            participants,
            statements,
            Rows {
                row_offsets,
                columns,
                values,
            },
        )
    }

    /// Agree / disagree / seen votes of every column (Polis's per-statement
    /// totals, the centre of the geometry), counted once per matrix.
    pub fn column_counts(&self) -> &[Counts] {
        self.counts
            .get_or_init(|| Tally::count(self, 1, |_| Some(0)).bucket(0).to_vec())
    }

    /// This merged matrix's column counts from the counts `before` the
    /// merge (of `old`, whose column `c` is column `old_cols[c]` here): the
    /// rows that took new votes (`changed`, with their `source`) lose
    /// their old votes and gain their merged ones.
    fn counts_after(
        &self,
        before: &[Counts],
        old_cols: &[u32],
        old: &VoteMatrix,
        source: &[(Option<u32>, Option<u32>)],
        changed: &[usize],
    ) -> Vec<Counts> {
        let n = self.n_statements();
        let delta = changed
            .par_iter()
            .with_min_len(crate::parallel::MIN_ITEMS_PER_TASK / 16)
            .fold(
                || vec![[0i64; 3]; n],
                |mut d, &row| {
                    if let Some(r) = source[row].0 {
                        let (cols, vals) = old.row(r as usize);
                        for (&c, &v) in cols.iter().zip(vals) {
                            d[old_cols[c as usize] as usize][(v + 1) as usize] -= 1;
                        }
                    }
                    let (cols, vals) = self.row(row);
                    for (&c, &v) in cols.iter().zip(vals) {
                        d[c as usize][(v + 1) as usize] += 1;
                    }
                    d
                },
            )
            .reduce(
                || vec![[0i64; 3]; n],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        for j in 0..3 {
                            x[j] += y[j];
                        }
                    }
                    a
                },
            );
        let mut raw: Vec<[i64; 3]> = delta;
        for (c, b) in before.iter().enumerate() {
            let r = &mut raw[old_cols[c] as usize];
            let pass = i64::from(b.seen) - i64::from(b.agree) - i64::from(b.disagree);
            r[0] += i64::from(b.disagree);
            r[1] += pass;
            r[2] += i64::from(b.agree);
        }
        raw.iter()
            .map(|r| {
                // Counts of votes that exist: never negative, and a column
                // holds at most one vote per participant (u32 rows).
                debug_assert!(r.iter().all(|&x| x >= 0), "negative column count");
                let at = |j: usize| u32::try_from(r[j]).unwrap_or(0);
                Counts {
                    agree: at(2),
                    disagree: at(0),
                    seen: at(0) + at(1) + at(2),
                }
            })
            .collect()
    }
}

/// A merge keeps the old rows shared and layers the changed ones over them
/// while the layer holds at most `1 / LAYER_SHARE` as many votes as the
/// shared rows; beyond, it copies every vote into a new matrix. Rows read
/// through the layer cost one lookup more, and the layer is rebuilt at
/// every merge, so it is kept small.
const LAYER_SHARE: usize = 8;

/// Maps statement ids to columns: a direct table for the common case of
/// small ids, a binary search otherwise.
enum ColumnLookup<'a> {
    Table(Vec<u32>),
    Search(&'a [u32]),
}

impl<'a> ColumnLookup<'a> {
    /// Above this many table slots per known statement the table wastes memory.
    const MAX_SPARSITY: usize = 64;

    fn new(sorted_ids: &'a [u32]) -> Self {
        match sorted_ids.last() {
            Some(&max) if (max as usize) < sorted_ids.len() * Self::MAX_SPARSITY + 1024 => {
                let mut table = vec![u32::MAX; max as usize + 1];
                for (column, &id) in sorted_ids.iter().enumerate() {
                    table[id as usize] = column as u32;
                }
                ColumnLookup::Table(table)
            }
            _ => ColumnLookup::Search(sorted_ids),
        }
    }

    fn get(&self, id: u32) -> u32 {
        match self {
            ColumnLookup::Table(table) => table[id as usize],
            // The ids were collected from the very votes being looked up, so
            // the search always succeeds; the fallback is never taken.
            ColumnLookup::Search(ids) => ids.binary_search(&id).unwrap_or_default() as u32,
        }
    }
}

/// Sorted union of two sorted id lists, with the position of each input
/// element in the union.
fn union_with_maps<T: Ord + Copy>(a: &[T], b: &[T]) -> (Vec<T>, Vec<u32>, Vec<u32>) {
    let mut union = Vec::with_capacity(a.len() + b.len());
    let mut map_a = Vec::with_capacity(a.len());
    let mut map_b = Vec::with_capacity(b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = j == b.len() || (i < a.len() && a[i] <= b[j]);
        let take_b = i == a.len() || (j < b.len() && b[j] <= a[i]);
        let at = union.len() as u32;
        if take_a {
            union.push(a[i]);
            map_a.push(at);
            i += 1;
        }
        if take_b {
            if !take_a {
                union.push(b[j]);
            }
            map_b.push(at);
            j += 1;
        }
    }
    (union, map_a, map_b)
}

/// A merge's participant and statement ids, where its rows come from (for
/// each merged row its old and new row) and where the old and new columns
/// go (each one's merged index).
struct MergePlan<'a> {
    ids: (Vec<ParticipantId>, Vec<StatementId>),
    /// Whether every old column keeps its index.
    same_columns: bool,
    source: &'a [(Option<u32>, Option<u32>)],
    old_cols: &'a [u32],
    new_cols: &'a [u32],
}

/// For every merged row, the row it comes from in each input.
fn row_sources(n: usize, old: &[u32], new: &[u32]) -> Vec<(Option<u32>, Option<u32>)> {
    let mut source = vec![(None, None); n];
    for (r, &to) in old.iter().enumerate() {
        source[to as usize].0 = Some(r as u32);
    }
    for (r, &to) in new.iter().enumerate() {
        source[to as usize].1 = Some(r as u32);
    }
    source
}

fn merged_len(a: &[u32], map_a: &[u32], b: &[u32], map_b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (map_a[a[i] as usize], map_b[b[j] as usize]);
        if x <= y {
            i += 1;
        }
        if y <= x {
            j += 1;
        }
        n += 1;
    }
    n + (a.len() - i) + (b.len() - j)
}

/// Writes the merge of two rows, `new` winning on equal columns; returns the length.
fn merge_row(
    old: (&[u32], &[i8]),
    map_old: &[u32],
    new: (&[u32], &[i8]),
    map_new: &[u32],
    cols: &mut [u32],
    vals: &mut [i8],
) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < old.0.len() || j < new.0.len() {
        let x = old.0.get(i).map(|&c| map_old[c as usize]);
        let y = new.0.get(j).map(|&c| map_new[c as usize]);
        match (x, y) {
            (Some(x), Some(y)) if x < y => {
                cols[n] = x;
                vals[n] = old.1[i];
                i += 1;
            }
            (Some(x), Some(y)) if x == y => {
                cols[n] = y;
                vals[n] = new.1[j];
                i += 1;
                j += 1;
            }
            (_, Some(y)) => {
                cols[n] = y;
                vals[n] = new.1[j];
                j += 1;
            }
            (Some(x), None) => {
                cols[n] = x;
                vals[n] = old.1[i];
                i += 1;
            }
            (None, None) => break,
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(p: u32, s: u32, v: Vote, t: i64) -> VoteEvent {
        VoteEvent {
            participant: ParticipantId(p),
            statement: StatementId(s),
            vote: v,
            timestamp: t,
        }
    }

    fn packed_only(votes: &[(u32, u32, Vote)]) -> VoteMatrix {
        // Each vote as its own event, later events later in time.
        let events: Vec<VoteEvent> = votes
            .iter()
            .enumerate()
            .map(|(t, &(p, s, v))| ev(p, s, v, t as i64))
            .collect();
        VoteMatrix::from_events(&events).unwrap()
    }

    #[test]
    fn builder_in_order_and_out_of_order_agree() {
        use Vote::*;
        let in_order = [
            (1, 5, Agree),
            (1, 5, Disagree),
            (1, 9, Pass),
            (4, 2, Agree),
            (4, 9, Disagree),
        ];
        let mut b = VoteMatrixBuilder::with_capacity(2);
        for &(p, s, v) in &in_order {
            b.push(ParticipantId(p), StatementId(s), v).unwrap();
        }
        assert_eq!(b.len(), 5);
        let direct = b.finish();
        assert_eq!(direct, packed_only(&in_order));
        assert_eq!(direct.n_votes(), 4);
        assert_eq!(direct.get(ParticipantId(1), StatementId(5)), Some(Disagree));
        assert_eq!(
            direct.statements(),
            &[StatementId(2), StatementId(5), StatementId(9)]
        );

        // Falling out of order half-way keeps everything pushed so far.
        let mixed = [
            (1, 5, Agree),
            (4, 9, Disagree),
            (1, 9, Pass),
            (4, 9, Agree),
            (0, 2, Agree),
        ];
        let mut b = VoteMatrixBuilder::new();
        for &(p, s, v) in &mixed {
            b.push(ParticipantId(p), StatementId(s), v).unwrap();
        }
        assert_eq!(b.finish(), packed_only(&mixed));
        assert_eq!(VoteMatrixBuilder::new().finish(), VoteMatrix::empty());
    }

    #[test]
    fn latest_vote_wins_and_order_is_canonical() {
        let events = vec![
            ev(7, 3, Vote::Agree, 10),
            ev(2, 9, Vote::Pass, 5),
            ev(7, 3, Vote::Disagree, 20),
            ev(2, 3, Vote::Agree, 1),
        ];
        let m = VoteMatrix::from_events(&events).unwrap();
        assert_eq!(m.participants(), &[ParticipantId(2), ParticipantId(7)]);
        assert_eq!(m.statements(), &[StatementId(3), StatementId(9)]);
        assert_eq!(m.n_votes(), 3);
        assert_eq!(
            m.get(ParticipantId(7), StatementId(3)),
            Some(Vote::Disagree)
        );
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(m, VoteMatrix::from_events(&reversed).unwrap());
    }

    #[test]
    fn dense_and_sparse_participant_ids_order_cells_alike() {
        // Shuffled events over few participants take the counting sort;
        // the same events with ids spread far apart take the comparison
        // sort. Both must give the order of the full key.
        let mut events = Vec::new();
        let mut x = 12345u64;
        for t in 0..3000i64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = (x >> 33) as u32 % 40;
            let s = (x >> 45) as u32 % 25;
            let v = [Vote::Agree, Vote::Disagree, Vote::Pass][(x >> 20) as usize % 3];
            events.push(ev(p, s, v, t % 700));
        }
        let key = |e: &VoteEvent| (e.participant, e.statement, e.timestamp, e.vote);
        let dense = cell_order(&events);
        assert_eq!(dense.len(), events.len());
        assert!(
            dense
                .windows(2)
                .all(|w| key(&events[w[0]]) <= key(&events[w[1]]))
        );

        let spread: Vec<VoteEvent> = events
            .iter()
            .map(|e| {
                ev(
                    e.participant.0 * 100_000,
                    e.statement.0,
                    e.vote,
                    e.timestamp,
                )
            })
            .collect();
        let sparse = cell_order(&spread);
        assert!(
            sparse
                .windows(2)
                .all(|w| key(&spread[w[0]]) <= key(&spread[w[1]]))
        );
        let (a, b) = (
            VoteMatrix::from_events(&events).unwrap(),
            VoteMatrix::from_events(&spread).unwrap(),
        );
        assert_eq!(a.n_votes(), b.n_votes());
        assert_eq!(a.base.row_offsets, b.base.row_offsets);
        assert_eq!(a.base.columns, b.base.columns);
        assert_eq!(a.base.values, b.base.values);
        assert!(cell_order(&[]).is_empty());
    }

    #[test]
    fn equal_timestamps_resolve_without_regard_to_input_order() {
        let a = vec![ev(1, 1, Vote::Disagree, 5), ev(1, 1, Vote::Agree, 5)];
        let b = vec![ev(1, 1, Vote::Agree, 5), ev(1, 1, Vote::Disagree, 5)];
        let ma = VoteMatrix::from_events(&a).unwrap();
        assert_eq!(ma, VoteMatrix::from_events(&b).unwrap());
        assert_eq!(ma.get(ParticipantId(1), StatementId(1)), Some(Vote::Agree));
    }

    #[test]
    fn merge_equals_building_from_all_events() {
        let first = vec![
            ev(1, 10, Vote::Agree, 1),
            ev(3, 30, Vote::Disagree, 2),
            ev(3, 10, Vote::Pass, 3),
        ];
        let second = vec![
            ev(2, 20, Vote::Agree, 4),
            ev(3, 10, Vote::Agree, 5),
            ev(1, 5, Vote::Disagree, 6),
        ];
        assert_merge_is_fresh(&first, &second);
    }

    /// Merges `second` into the matrix of `first`, whose column counts are
    /// taken first so that the merge carries them over, and checks the
    /// votes and the counts against a matrix built from all the events.
    fn assert_merge_is_fresh(first: &[VoteEvent], second: &[VoteEvent]) -> VoteMatrix {
        let before = VoteMatrix::from_events(first).unwrap();
        before.column_counts();
        let merged = before.with_events(second).unwrap();
        let all: Vec<VoteEvent> = first.iter().chain(second).copied().collect();
        let fresh = VoteMatrix::from_events(&all).unwrap();
        assert_eq!(merged, fresh);
        assert_eq!(merged.column_counts(), fresh.column_counts());
        merged
    }

    #[test]
    fn merge_of_many_rows_equals_building_from_all_events() {
        // Enough rows for several parallel blocks; runs of untouched rows,
        // new participants between old ones, re-votes, and new statements
        // after the old ones or before them. A small batch after the old
        // statements is layered; statements before them force a copy row
        // by row; a large batch after them, a copy in blocks.
        use rand::Rng;
        use rand_xoshiro::Xoshiro256PlusPlus;
        use rand_xoshiro::rand_core::SeedableRng;
        for (new_statements_first, size, layered) in [
            (false, 1_000, true),
            (true, 1_000, false),
            (false, 20_000, false),
        ] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
            let vote = |x: u32| [Vote::Disagree, Vote::Pass, Vote::Agree][x as usize % 3];
            let mut first = Vec::new();
            for t in 0..60_000i64 {
                let p = rng.gen_range(0..20_000u32) * 2;
                first.push(ev(p, rng.gen_range(10..60), vote(rng.r#gen()), t));
            }
            let mut second = Vec::new();
            for t in 60_000..60_000 + size {
                // Odd ids are new participants; new statements are 60.. or 0..10.
                let p = rng.gen_range(0..40_000u32);
                let s = match rng.gen_range(0..4) {
                    0 if new_statements_first => rng.gen_range(0..10),
                    0 => rng.gen_range(60..70),
                    _ => rng.gen_range(10..60),
                };
                second.push(ev(p, s, vote(rng.r#gen()), t));
            }
            let merged = assert_merge_is_fresh(&first, &second);
            assert_eq!(!merged.layout.is_empty(), layered);
        }
    }

    #[test]
    fn chains_of_merges_layer_rows_and_then_copy_them() {
        // Small batches layer the changed rows over the first matrix's;
        // layers build on layers; a large batch, or statements before the
        // old ones, copies every vote into a plain matrix again.
        use rand::Rng;
        use rand_xoshiro::Xoshiro256PlusPlus;
        use rand_xoshiro::rand_core::SeedableRng;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let vote = |x: u32| [Vote::Disagree, Vote::Pass, Vote::Agree][x as usize % 3];
        let event = |t: i64, rng: &mut Xoshiro256PlusPlus, statements: std::ops::Range<u32>| {
            let p = rng.gen_range(0..3_200u32);
            ev(p, rng.gen_range(statements), vote(rng.r#gen()), t)
        };
        let mut all: Vec<VoteEvent> = (0..60_000).map(|t| event(t, &mut rng, 10..50)).collect();
        let mut matrix = VoteMatrix::from_events(&all).unwrap();
        matrix.column_counts();
        let mut t = all.len() as i64;
        let mut kinds = Vec::new();
        for (size, statements) in [
            (50, 10..50),
            (60, 10..55),
            (40, 10..50),
            (9_000, 10..60),
            (50, 10..60),
            (50, 0..60),
        ] {
            let batch: Vec<VoteEvent> = (0..size)
                .map(|_| {
                    t += 1;
                    event(t, &mut rng, statements.clone())
                })
                .collect();
            matrix = matrix.with_events(&batch).unwrap();
            all.extend(batch);
            let fresh = VoteMatrix::from_events(&all).unwrap();
            assert_eq!(matrix, fresh, "after {} events", all.len());
            assert_eq!(matrix.n_votes(), fresh.n_votes());
            assert_eq!(matrix.column_counts(), fresh.column_counts());
            kinds.push(!matrix.layout.is_empty());
        }
        assert_eq!(kinds, [true, true, true, false, true, false]);
    }

    #[test]
    fn statement_ids_beyond_the_packing_limit_are_refused() {
        let err = VoteMatrix::from_events(&[ev(1, StatementId::MAX + 1, Vote::Agree, 0)]);
        assert!(matches!(err, Err(MathError::StatementIdTooLarge(_))));
    }

    #[test]
    fn sparse_statement_ids_use_the_search_lookup() {
        let events = vec![ev(1, 0, Vote::Agree, 0), ev(1, 9_000_000, Vote::Pass, 0)];
        let m = VoteMatrix::from_events(&events).unwrap();
        assert_eq!(
            m.get(ParticipantId(1), StatementId(9_000_000)),
            Some(Vote::Pass)
        );
    }
}
