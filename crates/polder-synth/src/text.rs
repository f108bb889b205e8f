//! Hand-written statements of the bundled example, a fictional Dutch
//! harbour town deciding what to do with its old harbour.
//!
//! Each statement carries the opinion direction the generator uses. The
//! small preset plants three groups on a circle: growth at 0°, harbour
//! heritage at 120° and green at 240°; a statement at angle θ is agreed with
//! most by the groups near θ.

/// One hand-written statement and the opinion it expresses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatementText {
    /// What participants read.
    pub text: &'static str,
    /// Direction on the opinion circle, degrees.
    pub angle: f64,
    /// How strongly the direction decides the vote, 0 ..= 1.
    pub strength: f64,
    /// Whether every group tends to agree (the direction is then ignored).
    pub consensus: bool,
}

const fn opinion(text: &'static str, angle: f64, strength: f64) -> StatementText {
    StatementText {
        text,
        angle,
        strength,
        consensus: false,
    }
}

const fn shared(text: &'static str) -> StatementText {
    StatementText {
        text,
        angle: 0.0,
        strength: 0.0,
        consensus: true,
    }
}

/// Title of the bundled example.
pub const HARBOUR_TOPIC: &str = "Polderdam: what should become of the old harbour?";

/// Statements of the bundled example, in the order they were written.
pub const HARBOUR_STATEMENTS: &[StatementText] = &[
    opinion(
        "Build 1,200 new homes on the former shipyard site.",
        0.0,
        1.0,
    ),
    opinion(
        "The old fish auction hall must be restored, not demolished.",
        120.0,
        1.0,
    ),
    opinion(
        "The salt marsh east of the harbour should become a protected nature reserve.",
        240.0,
        1.0,
    ),
    opinion(
        "A cruise ship terminal would bring the jobs Polderdam needs.",
        0.0,
        0.9,
    ),
    opinion(
        "The fishing fleet should keep its berths in the inner harbour, whatever else is built.",
        120.0,
        0.9,
    ),
    opinion(
        "No new building should be taller than the church tower.",
        180.0,
        0.9,
    ),
    opinion("Cars should be banned from the harbour quays.", 240.0, 0.8),
    opinion(
        "A multi-storey car park next to the harbour is needed for the shops and visitors.",
        60.0,
        0.9,
    ),
    shared("The harbour front should stay open to everyone, with no private quays."),
    opinion(
        "Turn the old warehouses into a market hall with local shops and restaurants.",
        60.0,
        0.8,
    ),
    opinion(
        "A tidal park along the dike is a better use of the outer harbour than a marina.",
        240.0,
        0.8,
    ),
    opinion(
        "A yacht marina in the outer harbour is a good idea.",
        0.0,
        0.8,
    ),
    shared("Residents should have a say before each phase of the redevelopment starts."),
    opinion(
        "At least a third of the new homes must be social housing.",
        300.0,
        0.8,
    ),
    shared("The flood defences must be raised before anything new is built on the waterfront."),
    opinion(
        "A wind farm at the harbour mouth is worth the change in the view.",
        270.0,
        0.9,
    ),
    opinion(
        "Lorries to the fish processing plant should be rerouted around the old town.",
        180.0,
        0.6,
    ),
    opinion(
        "The town should sell the harbour land to a developer to pay for the new dike.",
        0.0,
        1.0,
    ),
    shared("The herring festival should stay on the old quay."),
    opinion(
        "Electric ferries to the islands should leave from the new harbour, not the old one.",
        300.0,
        0.7,
    ),
    opinion(
        "Birds nesting on the breakwater should be protected even if building is delayed.",
        240.0,
        1.0,
    ),
    opinion("Shipyard jobs matter more than sea views.", 30.0, 0.8),
    opinion(
        "Polderdam should repair its existing homes before building new ones.",
        150.0,
        0.8,
    ),
    shared("A public swimming spot in the harbour basin would be a great addition."),
];
