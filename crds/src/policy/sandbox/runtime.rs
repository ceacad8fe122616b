//! Evaluating CEL rules without letting one take the process down: each object's rules run on a
//! thread of their own with a stack of [`STACK_BYTES`], every rule is estimated against the object's
//! real lengths first and not run when over [`COST_BUDGET`], the functions that make large values
//! (`lists.range`, `replace`) refuse to, and whatever has not finished by [`EVALUATION_DEADLINE`]
//! counts as timed out.
//!
//! A timed-out rule cannot be stopped; its thread finishes in the background. At most
//! [`MAX_EVALUATION_THREADS`] such threads run at once: beyond, rules are not started and count as
//! not evaluated, so a flood of slow rules cannot exhaust the machine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, mpsc};
use std::time::Instant;

use kube_cel::KubeCelExt;
use kube_cel::cel::extractors::{Arguments, This};
use kube_cel::cel::{self, ExecutionError, ResolveResult};
use serde_json::Value;

use super::cost::{self, Sizes};
use super::limits::{COST_BUDGET, EVALUATION_DEADLINE, MAX_GENERATED_LIST, MAX_GENERATED_STRING, STACK_BYTES};

/// How many evaluation threads may be alive at once.
pub const MAX_EVALUATION_THREADS: usize = 64;

static LIVE_THREADS: AtomicUsize = AtomicUsize::new(0);

/// How many evaluation threads are alive now (timed-out ones included), for background work that
/// should leave the slots to admission.
pub fn live_threads() -> usize {
    LIVE_THREADS.load(Ordering::Relaxed)
}

/// What one rule said about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Held,
    Broken,
    /// The expression returned something else than a bool (its type).
    NotBool(String),
    /// The expression failed (the error, credentials already redacted by the caller).
    Failed(String),
    /// Not run: its estimate over this object is over the budget.
    OverBudget(u64),
    /// Not finished by the deadline.
    TimedOut,
    /// Not run: too many evaluations are still running.
    Busy,
    /// The evaluator crashed.
    Crashed,
}

/// The CEL functions, Kubernetes' included, with the ones that allocate in proportion to an
/// argument bounded. Registered once per process.
static FUNCTIONS: LazyLock<cel::Context<'static>> = LazyLock::new(|| {
    let mut context = cel::Context::default().with_all();
    context.add_function("lists.range", bounded_range);
    context.add_function("replace", bounded_replace);
    context
});

fn bounded_range(n: i64) -> ResolveResult {
    if !(0..=MAX_GENERATED_LIST).contains(&n) {
        return Err(ExecutionError::function_error(
            "lists.range",
            format!("the bound must be between 0 and {MAX_GENERATED_LIST}"),
        ));
    }
    Ok(cel::Value::List(Arc::new((0..n).map(cel::Value::Int).collect())))
}

fn bounded_replace(This(this): This<Arc<String>>, Arguments(args): Arguments) -> ResolveResult {
    let (Some(cel::Value::String(from)), Some(cel::Value::String(to))) = (args.first(), args.get(1)) else {
        return Err(ExecutionError::function_error("replace", "expected string arguments"));
    };
    let limit = match args.get(2) {
        Some(cel::Value::Int(n)) if *n >= 0 => Some(*n as usize),
        _ => None,
    };
    let found = if from.is_empty() {
        this.chars().count() + 1
    } else {
        this.matches(from.as_str()).count()
    };
    let replaced = limit.map_or(found, |n| n.min(found));
    let size = this
        .len()
        .saturating_add(replaced.saturating_mul(to.len()))
        .saturating_sub(replaced.saturating_mul(from.len()));
    if size > MAX_GENERATED_STRING {
        return Err(ExecutionError::function_error(
            "replace",
            format!("the result would be {size} bytes, over the limit of {MAX_GENERATED_STRING}"),
        ));
    }
    let result = match limit {
        Some(n) => this.replacen(from.as_str(), to, n),
        None => this.replace(from.as_str(), to),
    };
    Ok(cel::Value::String(Arc::new(result)))
}

/// Counts a live evaluation thread until dropped.
struct Live;

impl Live {
    fn enter() -> Option<Live> {
        let mut current = LIVE_THREADS.load(Ordering::Relaxed);
        loop {
            if current >= MAX_EVALUATION_THREADS {
                return None;
            }
            match LIVE_THREADS.compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(Live),
                Err(now) => current = now,
            }
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE_THREADS.fetch_sub(1, Ordering::AcqRel);
    }
}

fn type_name(v: &cel::Value) -> String {
    format!("{:?}", v.type_of()).to_lowercase()
}

/// The message of a failed evaluation. The CEL crate prints the values an error is about with
/// `{:?}`, a map's entries in hash order: the same object would get another message each time (and
/// ratcheting, which compares messages, would judge an unchanged violation new), and a whole
/// object could end up in it. Maps and lists are named by their type instead.
fn failure_message(e: &ExecutionError) -> String {
    use ExecutionError as E;
    let v = |value: &cel::Value| match value {
        cel::Value::Map(_) | cel::Value::List(_) => type_name(value),
        other => format!("{other:?}"),
    };
    match e {
        E::UnexpectedType { got, want } => {
            let got = if got.contains(['{', '[']) {
                got.split('(').next().unwrap_or_default().to_lowercase()
            } else {
                got.clone()
            };
            format!("Unexpected type: got '{got}', want '{want}'")
        }
        E::UnsupportedTargetType { target } => format!("Invalid argument type: {}", v(target)),
        E::NotSupportedAsMethod { method, target } => {
            format!("Method '{method}' not supported on type '{}'", v(target))
        }
        E::UnsupportedKeyType(key) => format!("Unable to use value '{}' as a key", v(key)),
        E::ValuesNotComparable(a, b) => format!("{} can not be compared to {}", v(a), v(b)),
        E::UnsupportedUnaryOperator(op, a) => format!("Unsupported unary operator '{op}': {}", v(a)),
        E::UnsupportedBinaryOperator(op, a, b) => {
            format!("Unsupported binary operator '{op}': {}, {}", v(a), v(b))
        }
        E::UnsupportedMapIndex(a) => format!("Cannot use value as map index: {}", v(a)),
        E::UnsupportedListIndex(a) => format!("Cannot use value as list index: {}", v(a)),
        E::UnsupportedIndex(a, b) => format!("Cannot use value {} to index {}", v(a), v(b)),
        E::DivisionByZero(a) => format!("Division by zero of {}", v(a)),
        E::RemainderByZero(a) => format!("Remainder by zero of {}", v(a)),
        E::Overflow(op, a, b) => format!("Overflow from binary operator '{op}': {}, {}", v(a), v(b)),
        E::IndexOutOfBounds(a) => format!("Index out of bounds: {}", v(a)),
        other => other.to_string(),
    }
}

/// Evaluates one rule in a context with `object` and `kind` bound.
fn evaluate_one(context: &cel::Context<'_>, program: &cel::Program) -> Outcome {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(context))) {
        Ok(Ok(cel::Value::Bool(true))) => Outcome::Held,
        Ok(Ok(cel::Value::Bool(false))) => Outcome::Broken,
        Ok(Ok(other)) => Outcome::NotBool(type_name(&other)),
        Ok(Err(e)) => Outcome::Failed(failure_message(&e)),
        Err(_) => Outcome::Crashed,
    }
}

/// Evaluates `programs` against `object`, in order, and says what each did. Never blocks past
/// [`EVALUATION_DEADLINE`].
pub fn evaluate(kind: &str, object: &Value, programs: &[Arc<cel::Program>]) -> Vec<Outcome> {
    if programs.is_empty() {
        return Vec::new();
    }
    let Some(live) = Live::enter() else {
        return vec![Outcome::Busy; programs.len()];
    };
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let object = object.clone();
    let kind = kind.to_owned();
    let jobs: Vec<Arc<cel::Program>> = programs.to_vec();
    let spawned = std::thread::Builder::new()
        .name("cel".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let _live = live;
            let sizes = Sizes::of(&object);
            let mut context = FUNCTIONS.new_inner_scope();
            let bound = context
                .add_variable("object", &object)
                .and(context.add_variable("kind", kind));
            for (i, program) in jobs.iter().enumerate() {
                let outcome = match (&bound, cost::estimate(&program.expression().expr, sizes)) {
                    (Err(e), _) => Outcome::Failed(format!("the object could not be handed to CEL: {e}")),
                    (_, None) => Outcome::OverBudget(u64::MAX),
                    (_, Some(c)) if c > COST_BUDGET => Outcome::OverBudget(c),
                    _ => evaluate_one(&context, program),
                };
                if tx.send((i, outcome)).is_err() {
                    return;
                }
            }
        });
    let mut outcomes = vec![Outcome::TimedOut; programs.len()];
    if spawned.is_err() {
        return vec![Outcome::Busy; programs.len()];
    }
    let mut received = 0;
    while received < programs.len() {
        let left = EVALUATION_DEADLINE.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok((i, outcome)) => {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = outcome;
                }
                received += 1;
            }
            // The thread ended early (it crashed) or the deadline passed.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                for slot in outcomes.iter_mut().skip(received) {
                    if *slot == Outcome::TimedOut {
                        *slot = Outcome::Crashed;
                    }
                }
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn program(source: &str) -> Arc<cel::Program> {
        Arc::new(cel::Program::compile(source).unwrap())
    }

    #[test]
    fn rules_hold_break_and_fail() {
        let object = json!({"spec": {"replicas": 3, "name": "team-a-x"}});
        let outcomes = evaluate(
            "MachineDeployment",
            &object,
            &[
                program("object.spec.replicas <= 3"),
                program("object.spec.name.startsWith('team-b-')"),
                program("object.spec.name"),
                program("object.spec.missing == 1"),
                program("kind == 'MachineDeployment'"),
            ],
        );
        assert_eq!(outcomes[0], Outcome::Held);
        assert_eq!(outcomes[1], Outcome::Broken);
        assert_eq!(outcomes[2], Outcome::NotBool("string".into()));
        assert!(matches!(outcomes[3], Outcome::Failed(_)), "{:?}", outcomes[3]);
        assert_eq!(outcomes[4], Outcome::Held);
    }

    #[test]
    fn large_values_are_refused_not_made() {
        let object = json!({"s": "x".repeat(1000)});
        let outcomes = evaluate(
            "Cluster",
            &object,
            &[
                program("lists.range(1000000).size() > 0"),
                program("object.s.replace('', object.s + object.s + object.s + object.s + object.s).size() > 0"),
            ],
        );
        assert!(matches!(outcomes[0], Outcome::OverBudget(_)), "{:?}", outcomes[0]);
        assert!(
            matches!(&outcomes[1], Outcome::Failed(e) if e.contains("over the limit")),
            "{:?}",
            outcomes[1]
        );
    }

    #[test]
    fn an_object_with_long_lists_is_estimated_with_them() {
        let long: Vec<i64> = (0..5000).collect();
        let object = json!({"a": long});
        let outcomes = evaluate("Cluster", &object, &[program("object.a.all(x, object.a.all(y, true))")]);
        assert!(
            matches!(outcomes[0], Outcome::OverBudget(c) if c > COST_BUDGET),
            "{outcomes:?}"
        );
    }
}
