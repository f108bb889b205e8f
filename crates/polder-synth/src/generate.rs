//! Generating the votes, participant by participant.

use crate::config::SynthConfig;
use crate::error::SynthError;
use crate::model::{self, StatementModel};
use polder_core::{ParticipantId, StatementId, Vote, VoteEvent, VoteMatrix, VoteMatrixBuilder};
use rand::Rng;
use rayon::prelude::*;

/// Participants generated together before they are handed out in id
/// order: large enough to keep every core busy, small enough that a chunk's
/// votes stay a few megabytes.
const CHUNK: u32 = 8192;

/// A synthetic conversation: the planted model plus a seed. Votes are
/// generated on demand and are the same on every call.
#[derive(Debug, Clone)]
pub struct Synth {
    config: SynthConfig,
    seed: u64,
    statements: Vec<StatementModel>,
    /// Cumulative group weights, normalised to end at 1.
    group_cdf: Vec<f64>,
    /// When each statement appeared, ascending (ids are in creation order).
    created: Vec<i64>,
}

/// Per-worker scratch space for sampling statements without replacement.
struct Scratch {
    /// `stamps[s] == stamp` marks statement `s` as already chosen.
    stamps: Vec<u32>,
    stamp: u32,
    chosen: Vec<u32>,
}

/// The first draws of a participant: enough to know their group and how
/// many votes they cast without generating the votes.
struct Profile {
    group: u32,
    position: [f64; 2],
    arrival: i64,
    available: usize,
    n_votes: usize,
}

impl Synth {
    /// A conversation from a configuration and a seed.
    pub fn new(config: SynthConfig, seed: u64) -> Result<Self, SynthError> {
        config.validate()?;
        let statements = model::statements(&config, seed);
        let total: f64 = config.group_weights.iter().sum();
        let mut acc = 0.0;
        let mut group_cdf: Vec<f64> = config
            .group_weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        if let Some(last) = group_cdf.last_mut() {
            *last = 1.0;
        }
        let created = statements.iter().map(|s| s.created).collect();
        Ok(Synth {
            config,
            seed,
            statements,
            group_cdf,
            created,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of planted groups.
    pub fn n_groups(&self) -> usize {
        self.group_cdf.len()
    }

    /// When statement `s` appeared (ms), who wrote it and whether it is a
    /// planted consensus statement.
    pub fn statement_facts(&self, s: StatementId) -> Option<(i64, ParticipantId, bool)> {
        self.statements.get(s.0 as usize).map(|m| {
            (
                m.created,
                ParticipantId(m.author),
                m.consensus_agree.is_some(),
            )
        })
    }

    fn profile(&self, rng: &mut impl Rng) -> Profile {
        let u: f64 = rng.r#gen();
        let group = self
            .group_cdf
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.group_cdf.len() - 1);
        let centre = model::group_position(group, self.group_cdf.len());
        let (dx, dy) = model::normal_pair(rng);
        let position = [
            centre[0] + self.config.spread * dx,
            centre[1] + self.config.spread * dy,
        ];
        let arrival =
            self.config.start_ms + (rng.r#gen::<f64>() * self.config.duration_ms as f64) as i64;
        let available = self
            .created
            .partition_point(|&c| c <= arrival)
            .max(self.config.seed_statements as usize)
            .min(self.statements.len());
        let (z, _) = model::normal_pair(rng);
        let wanted = (self.config.median_votes * (self.config.votes_sigma * z).exp()).round();
        let n_votes = (wanted.max(1.0) as usize).min(available);
        Profile {
            group: group as u32,
            position,
            arrival,
            available,
            n_votes,
        }
    }

    /// The planted group of participant `p` (`0..n_groups()`).
    pub fn planted_group(&self, p: ParticipantId) -> u32 {
        self.profile(&mut model::stream(self.seed, u64::from(p.0)))
            .group
    }

    /// The planted group of every participant, indexed by participant id.
    pub fn planted_groups(&self) -> Vec<u32> {
        (0..self.config.participants)
            .into_par_iter()
            .map(|p| self.planted_group(ParticipantId(p)))
            .collect()
    }

    /// Total number of votes, without generating them.
    pub fn n_votes(&self) -> u64 {
        (0..self.config.participants)
            .into_par_iter()
            .map(|p| {
                self.profile(&mut model::stream(self.seed, u64::from(p)))
                    .n_votes as u64
            })
            .sum()
    }

    /// The votes of one participant, statements ascending, timestamps ascending.
    fn participant_votes(&self, p: u32, scratch: &mut Scratch, out: &mut Vec<VoteEvent>) -> u32 {
        let mut rng = model::stream(self.seed, u64::from(p));
        let profile = self.profile(&mut rng);
        // Floyd's sampling: `n_votes` distinct statements among those
        // available on arrival, in time linear in the votes, not the statements.
        scratch.stamp = scratch.stamp.wrapping_add(1);
        if scratch.stamp == 0 {
            scratch.stamps.fill(0);
            scratch.stamp = 1;
        }
        scratch.chosen.clear();
        let (k, n) = (profile.available as u32, profile.n_votes as u32);
        for j in (k - n)..k {
            let t = rng.gen_range(0..=j);
            let pick = if scratch.stamps[t as usize] == scratch.stamp {
                j
            } else {
                t
            };
            scratch.stamps[pick as usize] = scratch.stamp;
            scratch.chosen.push(pick);
        }
        scratch.chosen.sort_unstable();
        let mut time = profile.arrival;
        let interval = self.config.vote_interval_ms as f64;
        out.clear();
        for &s in &scratch.chosen {
            time += (interval * (0.5 + rng.r#gen::<f64>())) as i64 + 1;
            let m = &self.statements[s as usize];
            let vote = if rng.r#gen::<f64>() < m.pass {
                Vote::Pass
            } else {
                let agree = m.consensus_agree.unwrap_or_else(|| {
                    let dot =
                        profile.position[0] * m.direction[0] + profile.position[1] * m.direction[1];
                    1.0 / (1.0 + (-self.config.separation * dot).exp())
                });
                if rng.r#gen::<f64>() < agree {
                    Vote::Agree
                } else {
                    Vote::Disagree
                }
            };
            out.push(VoteEvent {
                participant: ParticipantId(p),
                statement: StatementId(s),
                vote,
                timestamp: time,
            });
        }
        profile.group
    }

    /// Calls `f(participant, planted group, votes)` for every participant in
    /// id order. A participant's votes are sorted by statement id and by
    /// time. Votes are generated in parallel a chunk of participants at a
    /// time, so memory stays small whatever the size of the conversation.
    pub fn for_each_participant(&self, mut f: impl FnMut(ParticipantId, u32, &[VoteEvent])) {
        let n_statements = self.statements.len();
        let mut start = 0;
        while start < self.config.participants {
            let end = start.saturating_add(CHUNK).min(self.config.participants);
            let rows: Vec<(u32, Vec<VoteEvent>)> = (start..end)
                .into_par_iter()
                .map_init(
                    || Scratch {
                        stamps: vec![0; n_statements],
                        stamp: 0,
                        chosen: Vec::new(),
                    },
                    |scratch, p| {
                        let mut votes = Vec::new();
                        let group = self.participant_votes(p, scratch, &mut votes);
                        (group, votes)
                    },
                )
                .collect();
            for (p, (group, votes)) in (start..end).zip(rows) {
                f(ParticipantId(p), group, &votes);
            }
            start = end;
        }
    }

    /// Calls `f` for every vote, participants in id order.
    pub fn for_each_vote(&self, mut f: impl FnMut(&VoteEvent)) {
        self.for_each_participant(|_, _, votes| votes.iter().for_each(&mut f));
    }

    /// Every vote in one vector; for small conversations and tests.
    pub fn votes(&self) -> Vec<VoteEvent> {
        let mut all = Vec::new();
        self.for_each_vote(|v| all.push(*v));
        all
    }

    /// The vote matrix, built straight from the generator without holding
    /// the vote events.
    pub fn vote_matrix(&self) -> Result<VoteMatrix, SynthError> {
        let mut builder = VoteMatrixBuilder::with_capacity(self.n_votes() as usize);
        let mut failed = None;
        self.for_each_vote(|v| {
            if failed.is_none()
                && let Err(e) = builder.push(v.participant, v.statement, v.vote)
            {
                failed = Some(e);
            }
        });
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(builder.finish()),
        }
    }
}
