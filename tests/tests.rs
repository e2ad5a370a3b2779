//! The integration tests: one binary, real servers on 127.0.0.1, a real
//! SQLite file in a temporary folder, and the real `stancewatch` binary.

mod support;

mod alerts;
mod analyst;
mod cli;
mod corpus;
mod daemon;
mod end_to_end;
mod engine;
mod hostile;
mod postgres;
mod private;
mod systemd;
