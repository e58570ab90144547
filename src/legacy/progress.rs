//! Counting an import as it runs: a progress line on a terminal, and the summary at the end.
//!
//! Rejected rows are named by their row number (their position in the order the legacy
//! database returned them), never by their email: summaries end up in logs and tickets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// How many row numbers are listed per rejection reason.
const SHOWN_ROWS: usize = 10;
const REDRAW_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rejections {
    pub count: u64,
    /// The first `SHOWN_ROWS` row numbers (1-based).
    pub rows: Vec<u64>,
}

#[derive(Debug)]
pub struct Progress {
    started: Instant,
    last_drawn: Option<Instant>,
    /// Draw the progress line (stderr is a terminal).
    live: bool,
    pub read: u64,
    pub imported: u64,
    pub skipped: u64,
    /// Per reason kind, sorted by name.
    pub rejected: BTreeMap<String, Rejections>,
}

impl Progress {
    pub fn new(live: bool) -> Self {
        Self {
            started: Instant::now(),
            last_drawn: None,
            live,
            read: 0,
            imported: 0,
            skipped: 0,
            rejected: BTreeMap::new(),
        }
    }

    /// Counts a row read; returns its number.
    pub fn row_read(&mut self) -> u64 {
        self.read += 1;
        self.read
    }

    pub fn reject(&mut self, row: u64, reason: &str) {
        let entry = self.rejected.entry(reason.to_owned()).or_default();
        entry.count += 1;
        if entry.rows.len() < SHOWN_ROWS {
            entry.rows.push(row);
        }
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().map(|r| r.count).sum()
    }

    /// Redraws the progress line if it is due.
    pub fn tick(&mut self) {
        let now = Instant::now();
        if !self.live || self.last_drawn.is_some_and(|t| now - t < REDRAW_EVERY) {
            return;
        }
        self.last_drawn = Some(now);
        let line = format!(
            "read {} · imported {} · skipped {} · rejected {} · {:.0} rows/s",
            self.read,
            self.imported,
            self.skipped,
            self.rejected_total(),
            self.rate()
        );
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{line}");
        let _ = stderr.flush();
    }

    /// Clears the progress line.
    pub fn finish(&mut self) {
        if self.live && self.last_drawn.is_some() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }

    fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.read as f64 / secs
        } else {
            0.0
        }
    }

    /// The summary printed on stdout.
    pub fn summary(&self, source: &str, dry_run: bool, complete: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}{} rows read from {source} in {:.1} s",
            if dry_run { "dry run: " } else { "" },
            self.read,
            self.started.elapsed().as_secs_f64()
        );
        let verb = if dry_run { "would import" } else { "imported" };
        let _ = writeln!(out, "{verb}: {}", self.imported);
        let _ = writeln!(out, "skipped as existing: {}", self.skipped);
        let _ = writeln!(out, "rejected: {}", self.rejected_total());
        for (reason, rejections) in &self.rejected {
            let _ = writeln!(
                out,
                "  {reason}: {} ({})",
                rejections.count,
                row_list(rejections)
            );
        }
        if self.rejected.contains_key(UNRECOGNISED) {
            let _ = writeln!(
                out,
                "hint: plain-text passwords are never detected; if the column holds them (seeds 000 and 004), run again with --format plain"
            );
        }
        if self.rejected.contains_key(AMBIGUOUS_EMAIL) {
            let _ = writeln!(
                out,
                "hint: rows whose emails differ only in case or surrounding spaces name one Gatehouse user, and which row is that user's cannot be told, so none of them was imported; keep one row per email in the old table (merge or delete the others), then run the import again"
            );
        }
        if !complete {
            let _ = writeln!(out, "the import stopped early: see the error below; running it again resumes it (users already imported are skipped)");
        } else if dry_run {
            let _ = writeln!(out, "dry run: nothing was written");
        } else if self.imported == 0 {
            let _ = writeln!(
                out,
                "nothing to import: every readable user is already in Gatehouse or was rejected"
            );
        }
        out
    }
}

/// The reason `legacy_hash::Rejected::Unrecognised` displays as.
const UNRECOGNISED: &str = "unrecognised hash format";
/// The reason of rows whose normalised email another row shares.
pub const AMBIGUOUS_EMAIL: &str = "ambiguous email";

fn row_list(rejections: &Rejections) -> String {
    let shown: Vec<String> = rejections.rows.iter().map(u64::to_string).collect();
    let noun = if rejections.count == 1 { "row" } else { "rows" };
    let more = rejections.count - rejections.rows.len() as u64;
    if more > 0 {
        format!("{noun} {} and {more} more", shown.join(", "))
    } else {
        format!("{noun} {}", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_and_groups_rejections() {
        let mut p = Progress::new(false);
        for _ in 0..15 {
            p.row_read();
        }
        p.imported = 2;
        p.skipped = 1;
        for row in 3..15 {
            p.reject(row, "invalid email");
        }
        p.reject(15, UNRECOGNISED);
        let summary = p.summary("table user at sqlite://x", false, true);
        assert!(summary.contains("imported: 2\n"), "{summary}");
        assert!(summary.contains("skipped as existing: 1\n"), "{summary}");
        assert!(summary.contains("rejected: 13\n"), "{summary}");
        assert!(
            summary
                .contains("  invalid email: 12 (rows 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 2 more)"),
            "{summary}"
        );
        assert!(
            summary.contains("  unrecognised hash format: 1 (row 15)"),
            "{summary}"
        );
        assert!(summary.contains("--format plain"), "{summary}");
        assert!(!summary.contains("merge or delete"), "{summary}");
        p.reject(16, AMBIGUOUS_EMAIL);
        let summary = p.summary("t", false, true);
        assert!(
            summary.contains("  ambiguous email: 1 (row 16)"),
            "{summary}"
        );
        assert!(summary.contains("merge or delete"), "{summary}");
    }

    #[test]
    fn a_run_with_nothing_new_says_so() {
        let mut p = Progress::new(false);
        p.row_read();
        p.skipped = 1;
        let summary = p.summary("t", false, true);
        assert!(summary.contains("imported: 0\n"));
        assert!(summary.contains("nothing to import"));
        assert!(p.summary("t", true, true).contains("would import: 0"));
    }
}
