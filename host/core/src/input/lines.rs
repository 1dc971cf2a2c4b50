//! Line numbers of squid configurations whose includes are numbered after
//! their own lines, mapped back to the included files: the loader keeps
//! the map, so a finding on a line of an included file points at that file.

use std::collections::BTreeMap;

/// Where the numbered lines of included squid files are: for each squid
/// configuration file of the inputs (by index in `Loaded::files`), the
/// ranges of numbers (see `squid::SquidConfig::parse`) of its included files
/// and the index of each included file in `Loaded::files`.
#[derive(Debug, Default)]
pub struct LineMap(BTreeMap<usize, Vec<LineRange>>);

/// Numbers `first .. first + lines` stand for lines `1 ..= lines` of the
/// included file `file` (its index in `Loaded::files`).
#[derive(Debug, Clone, Copy)]
pub struct LineRange {
    pub first: u32,
    pub lines: u32,
    pub file: usize,
}

impl LineMap {
    /// Records the ranges of the includes of the configuration in `file`.
    pub fn insert(&mut self, file: usize, ranges: Vec<LineRange>) {
        self.0.insert(file, ranges);
    }

    /// The file (index in `Loaded::files`) and line that `number` of the
    /// configuration in file `file` stands for; `None` for a line of the
    /// configuration's own file.
    pub fn origin(&self, file: usize, number: u32) -> Option<(usize, u32)> {
        let ranges = self.0.get(&file)?;
        // Ranges are allocated in increasing order.
        let i = ranges
            .partition_point(|r| r.first <= number)
            .checked_sub(1)?;
        let r = ranges.get(i)?;
        let n = number - r.first;
        (n < r.lines).then_some((r.file, n + 1))
    }
}

/// Whether an embedded configuration's lines are the file's lines after the
/// key line `key` (a block scalar), so that its line n is line `key + n` of
/// the file.
pub fn written_literally(text: &str, file_text: &str, key: u32) -> bool {
    let mut file_lines = file_text.lines().skip(key as usize);
    text.lines().all(|l| {
        let f = file_lines.next();
        l.trim().is_empty() || f.is_some_and(|f| f.trim() == l.trim())
    })
}
