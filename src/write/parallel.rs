//! Runs pure Rust jobs on threads started with every signal blocked, so that Postgres'
//! signal handlers only ever run on the backend thread. The jobs never call Postgres; the
//! backend thread runs one of them, or other work (such as reading the next input) that
//! may.

use std::mem::MaybeUninit;

/// Runs the jobs, returning their results in order; `beside`, if given, runs on the
/// backend thread meanwhile (then every job gets a thread of its own), otherwise the first
/// job does. A panic in a job is raised again here.
pub fn run_all<'a, T: Send, F: FnOnce() -> T + Send + 'a>(
    jobs: Vec<F>,
    beside: Option<impl FnOnce()>,
) -> Vec<T> {
    std::thread::scope(|scope| {
        let mut jobs = jobs.into_iter();
        let here = if beside.is_none() { jobs.next() } else { None };
        let others: Vec<_> = jobs
            .map(|job| {
                let _blocked = SignalsBlocked::new();
                scope.spawn(job)
            })
            .collect();
        let mut results = Vec::with_capacity(others.len() + 1);
        if let Some(job) = here {
            results.push(job());
        }
        if let Some(beside) = beside {
            beside();
        }
        for other in others {
            results.push(
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        results
    })
}

/// Blocks every signal on this thread for good: for threads that only ever run Rust.
pub fn block_signals_for_good() {
    std::mem::forget(SignalsBlocked::new());
}

/// Blocks every signal on this thread until dropped; threads started meanwhile inherit
/// the blocked set and keep it.
struct SignalsBlocked {
    previous: libc::sigset_t,
}

impl SignalsBlocked {
    fn new() -> Self {
        let mut all = MaybeUninit::<libc::sigset_t>::uninit();
        let mut previous = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigfillset initialises `all`; pthread_sigmask fills `previous`.
        unsafe {
            libc::sigfillset(all.as_mut_ptr());
            libc::pthread_sigmask(libc::SIG_BLOCK, all.as_ptr(), previous.as_mut_ptr());
            SignalsBlocked {
                previous: previous.assume_init(),
            }
        }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask read in `new`; signals that came meanwhile are delivered.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut()) };
    }
}
