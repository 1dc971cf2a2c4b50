//! Work spread over a few threads, results in order: what parsing files and
//! evaluating plugins share. The results do not depend on the number of
//! threads, so neither does any output built from them.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(i)` for every `i` in `0..n`, on up to `jobs` threads (this one
/// included), in index order. A thread the system refuses is one fewer
/// worker; an index whose worker died is `None`, for the caller to report
/// or redo, never silently dropped.
pub fn map<R: Send>(n: usize, jobs: usize, f: impl Fn(usize) -> R + Sync) -> Vec<Option<R>> {
    let jobs = jobs.clamp(1, n.max(1));
    if jobs == 1 {
        return (0..n).map(|i| Some(f(i))).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            mine.push((i, f(i)));
        }
        mine
    };
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..jobs)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("palisade-worker".to_string())
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut done = work();
        for h in helpers {
            if let Ok(theirs) = h.join() {
                done.extend(theirs);
            }
        }
        for (i, r) in done {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_order_whatever_the_threads() {
        for jobs in [0, 1, 2, 7] {
            let got: Vec<usize> = super::map(100, jobs, |i| i * i)
                .into_iter()
                .map(|r| r.unwrap_or(usize::MAX))
                .collect();
            let want: Vec<usize> = (0..100).map(|i| i * i).collect();
            assert_eq!(got, want, "{jobs} threads");
        }
    }
}
