//! Analyses over swarm-gym result CSVs (trends, A/B charts, knob effects). They land with
//! issue 5; the crate exists now so the workspace has the user's layout.
