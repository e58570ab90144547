use super::*;
use proptest::prelude::*;

const HEADER: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(75);

fn activity(header: Duration, idle: Duration, opened: Instant) -> Arc<Activity> {
    let limits = ConnectionLimits {
        header_read_timeout: header,
        idle_timeout: idle,
        max_connections: 1,
    };
    Arc::new(Activity::new(&limits, opened))
}

fn phase(activity: &Activity) -> Phase {
    activity.lock().phase
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn a_new_connection_has_the_header_timeout_from_when_it_opened_however_bytes_trickle() {
    let opened = Instant::now();
    let activity = activity(HEADER, IDLE, opened);
    assert!(activity.silent());
    for at in [1, 5, 9] {
        activity.bytes_read(|| opened + secs(at));
    }
    assert!(!activity.silent());
    assert_eq!(
        phase(&activity),
        Phase::Headers {
            until: opened + HEADER
        }
    );
    assert_eq!(activity.next_check(opened + secs(9)), Some(opened + HEADER));
    assert_eq!(activity.next_check(opened + HEADER), None);
}

#[test]
fn a_request_in_flight_has_no_deadline() {
    let opened = Instant::now();
    let activity = activity(HEADER, IDLE, opened);
    let _in_flight = activity.request_started();
    let much_later = opened + secs(3600);
    assert_eq!(
        activity.next_check(much_later),
        Some(much_later + HEADER),
        "looked at again, never closed"
    );
}

#[test]
fn after_an_answer_the_connection_may_idle_longer_than_the_header_timeout() {
    let opened = Instant::now();
    let activity = activity(HEADER, IDLE, opened);
    activity.request_finished_for_test(opened + secs(1));
    let idle_until = opened + secs(1) + IDLE;
    assert_eq!(phase(&activity), Phase::Idle { until: idle_until });
    // Looked at every header timeout, so that a request begun meanwhile is held to its own.
    assert_eq!(
        activity.next_check(opened + secs(2)),
        Some(opened + secs(12))
    );
    assert_eq!(activity.next_check(idle_until - secs(1)), Some(idle_until));
    assert_eq!(activity.next_check(idle_until), None);
}

#[test]
fn the_next_requests_first_byte_starts_its_header_timeout() {
    let opened = Instant::now();
    let activity = activity(HEADER, IDLE, opened);
    activity.request_finished_for_test(opened);
    activity.bytes_read(|| opened + secs(70));
    assert_eq!(
        phase(&activity),
        Phase::Headers {
            until: opened + secs(80)
        },
        "past the idle deadline: headers have their own"
    );
    activity.bytes_read(|| opened + secs(79));
    assert_eq!(activity.next_check(opened + secs(80)), None);
}

#[test]
fn an_idle_timeout_shorter_than_the_header_timeout_holds_from_the_first_request() {
    let opened = Instant::now();
    let activity = activity(secs(10), secs(1), opened);
    // The timer's first look comes before a quick first answer's idle deadline can pass.
    assert_eq!(activity.next_check(opened), Some(opened + secs(1)));
    activity.request_finished_for_test(opened);
    assert_eq!(activity.next_check(opened + secs(1)), None);
}

#[test]
fn a_late_answer_to_an_earlier_request_changes_nothing() {
    let opened = Instant::now();
    let activity = activity(HEADER, IDLE, opened);
    let first = activity.request_started();
    let second = activity.request_started();
    drop(first);
    assert_eq!(phase(&activity), Phase::Busy { request: 2 });
    drop(second);
    assert!(matches!(phase(&activity), Phase::Idle { .. }));
}

impl Activity {
    /// A request begun and answered at `at`.
    fn request_finished_for_test(self: &Arc<Self>, at: Instant) {
        let in_flight = self.request_started();
        self.request_finished(in_flight.request, at);
        std::mem::forget(in_flight);
    }
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Read,
    Start,
    Finish,
}

fn event() -> impl Strategy<Value = (u64, Event)> {
    let kind = prop_oneof![Just(Event::Read), Just(Event::Start), Just(Event::Finish)];
    (0..15_000u64, kind)
}

proptest! {
    /// The connection task's timer is never set past the deadline, whatever happens between
    /// two looks: so a connection is closed at its deadline, not later.
    #[test]
    fn the_timer_never_runs_past_the_deadline(
        header in 1..15u64,
        idle in 1..15u64,
        events in proptest::collection::vec(event(), 1..40),
    ) {
        let opened = Instant::now();
        let activity = activity(secs(header), secs(idle), opened);
        let mut armed = activity.next_check(opened).expect("a first look");
        let mut now = opened;
        let mut in_flight = None;
        for (delay_ms, event) in events {
            let at = now + Duration::from_millis(delay_ms);
            // The timer fires at every armed instant up to `at`.
            while armed <= at {
                match activity.next_check(armed) {
                    Some(next) => { prop_assert!(next > armed); armed = next; }
                    None => return Ok(()), // closed, at its deadline
                }
            }
            now = at;
            match event {
                Event::Read => activity.bytes_read(|| now),
                Event::Start => in_flight = Some(activity.request_started()),
                Event::Finish => if let Some(request) = in_flight.take() {
                    activity.request_finished(request.request, now);
                    std::mem::forget(request);
                },
            }
            if let Phase::Headers { until } | Phase::Idle { until } = phase(&activity) {
                prop_assert!(armed <= until, "armed {:?} after the deadline {:?}", armed - opened, until - opened);
            }
        }
    }
}

#[test]
fn the_open_file_limit_is_read_where_the_system_tells_it() {
    if cfg!(target_os = "linux") {
        assert!(open_file_limit().is_some_and(|n| n > 0));
    }
}
