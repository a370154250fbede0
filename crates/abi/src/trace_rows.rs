//! [`TraceRows`]: complete traces as the rows of a batch, flat (WIT `trace-rows`, 0.1.5).

/// Complete traces as two flat lists: trace `i` is `rows[ends[i - 1]..ends[i]]` (from 0 for the
/// first). The host builds it; a sampler reads it with [`TraceRows::iter`] or [`TraceRows::get`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceRows {
    /// The span rows of every trace, trace after trace.
    pub rows: Vec<u32>,
    /// Where each trace's rows end in `rows`: one entry per trace, never decreasing, the last
    /// equal to `rows.len()`.
    pub ends: Vec<u32>,
}

impl TraceRows {
    /// Room for `traces` traces of `rows` rows in all.
    pub fn with_capacity(traces: usize, rows: usize) -> Self {
        Self {
            rows: Vec::with_capacity(rows),
            ends: Vec::with_capacity(traces),
        }
    }

    /// One trace per list, in order.
    pub fn from_lists<L: AsRef<[u32]>>(lists: &[L]) -> Self {
        let total = lists.iter().map(|rows| rows.as_ref().len()).sum();
        let mut traces = Self::with_capacity(lists.len(), total);
        for rows in lists {
            traces.push(rows.as_ref());
        }
        traces
    }

    /// One list per trace, as the `tail-sampler` world of 0.1.4 takes them.
    pub fn to_lists(&self) -> Vec<Vec<u32>> {
        self.iter().map(<[u32]>::to_vec).collect()
    }

    /// Add a trace made of `rows`.
    pub fn push(&mut self, rows: &[u32]) {
        self.rows.extend_from_slice(rows);
        self.ends.push(self.end());
    }

    /// Add `row` to a trace not ended yet; [`TraceRows::end_trace`] ends it.
    pub fn push_row(&mut self, row: u32) {
        self.rows.push(row);
    }

    /// End the trace whose rows were pushed since the last one ended (a trace without rows if
    /// none was).
    pub fn end_trace(&mut self) {
        self.ends.push(self.end());
    }

    /// How many traces.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no trace.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many rows, over every trace.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// The rows of trace `index`. Ends that are out of order or past `rows` (which the host
    /// never sends) read as a trace without rows.
    pub fn get(&self, index: usize) -> Option<&[u32]> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        Some(self.rows.get(start..end).unwrap_or(&[]))
    }

    /// The rows of each trace, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.len()).map(|index| self.get(index).unwrap_or(&[]))
    }

    /// Check the shape against a batch of `batch_rows` rows: ends never decreasing, the last
    /// equal to the number of rows, every row in the batch.
    pub fn check(&self, batch_rows: usize) -> Result<(), String> {
        let mut start = 0u32;
        for (index, &end) in self.ends.iter().enumerate() {
            if end < start || end as usize > self.rows.len() {
                return Err(format!(
                    "trace {index} ends at {end}, outside {start}..={}",
                    self.rows.len()
                ));
            }
            start = end;
        }
        if start as usize != self.rows.len() {
            return Err(format!(
                "the traces end at row {start} of {}",
                self.rows.len()
            ));
        }
        match self.rows.iter().find(|&&row| row as usize >= batch_rows) {
            Some(row) => Err(format!("row {row} is outside the batch of {batch_rows}")),
            None => Ok(()),
        }
    }

    fn end(&self) -> u32 {
        u32::try_from(self.rows.len()).expect("a batch has fewer than 2^32 rows")
    }
}

#[cfg(test)]
mod tests {
    use super::TraceRows;

    #[test]
    fn traces_round_trip_through_lists() {
        let lists = vec![vec![0, 3], vec![], vec![1, 2, 4]];
        let traces = TraceRows::from_lists(&lists);
        assert_eq!(traces.rows, [0, 3, 1, 2, 4]);
        assert_eq!(traces.ends, [2, 2, 5]);
        assert_eq!(traces.len(), 3);
        assert_eq!(traces.row_count(), 5);
        assert_eq!(traces.get(1), Some(&[][..]));
        assert_eq!(traces.get(2), Some(&[1, 2, 4][..]));
        assert_eq!(traces.get(3), None);
        assert_eq!(traces.to_lists(), lists);
        assert_eq!(traces.check(5), Ok(()));
    }

    #[test]
    fn rows_pushed_one_by_one_make_the_same_traces() {
        let mut traces = TraceRows::default();
        traces.push_row(4);
        traces.push_row(0);
        traces.end_trace();
        traces.end_trace();
        traces.push_row(1);
        traces.end_trace();
        assert_eq!(
            traces,
            TraceRows::from_lists(&[vec![4, 0], vec![], vec![1]])
        );
    }

    #[test]
    fn a_bad_shape_is_named_and_reads_as_empty_traces() {
        let bad = TraceRows {
            rows: vec![0, 1, 2],
            ends: vec![2, 1, 3],
        };
        assert_eq!(
            bad.check(3).unwrap_err(),
            "trace 1 ends at 1, outside 2..=3"
        );
        assert_eq!(bad.get(1), Some(&[][..]));
        let short = TraceRows {
            rows: vec![0, 1, 2],
            ends: vec![2],
        };
        assert_eq!(short.check(3).unwrap_err(), "the traces end at row 2 of 3");
        let past = TraceRows {
            rows: vec![0, 7],
            ends: vec![9],
        };
        assert!(past.check(8).unwrap_err().contains("outside 0..=2"));
        assert_eq!(past.get(0), Some(&[][..]));
        let outside = TraceRows::from_lists(&[vec![0, 8]]);
        assert_eq!(
            outside.check(8).unwrap_err(),
            "row 8 is outside the batch of 8"
        );
    }
}
