//! The limits a CEL rule is held to, like the apiserver's own, and the errors that name them.

use std::time::Duration;

/// The longest expression, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 5_000;
/// The deepest nesting of brackets, braces and parentheses in an expression's source.
pub const MAX_NESTING_DEPTH: usize = 32;
/// The most operators (`+`, `&&`, `.`, `?`, …) in one expression: a chain of operators nests in
/// the parser and the evaluator as deeply as brackets do.
pub const MAX_OPERATORS: usize = 500;
/// The cost budget of one expression, in the apiserver's units (its per-call limit for CEL,
/// roughly a tenth of a second of evaluation).
pub const COST_BUDGET: u64 = 1_000_000;
/// How long the CEL rules of the policies that select one object may run together. A rule that has
/// not finished by then counts as broken, with the reason, under its policy's enforcement.
pub const EVALUATION_DEADLINE: Duration = Duration::from_secs(1);
/// The stack of the threads that parse and evaluate CEL. The limits above keep the parser and the
/// evaluator well inside it.
pub const STACK_BYTES: usize = 64 * 1024 * 1024;
/// The longest list `lists.range` may make, and its largest literal bound.
pub const MAX_GENERATED_LIST: i64 = 100_000;
/// The longest string `replace` may make, in bytes.
pub const MAX_GENERATED_STRING: usize = 4 * 1024 * 1024;

/// Why an expression is refused before or while it is compiled. Each names the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CelLimitError {
    #[error("the expression is {chars} characters long; the limit is {MAX_EXPRESSION_CHARS}")]
    TooLong { chars: usize },
    #[error("the expression nests brackets {depth} deep; the limit is {MAX_NESTING_DEPTH}")]
    TooDeep { depth: usize },
    #[error("the expression has {count} operators; the limit is {MAX_OPERATORS}")]
    TooManyOperators { count: usize },
    #[error("the expression's estimated cost is {estimated}, over the cost budget of {COST_BUDGET}")]
    OverBudget { estimated: u64 },
    #[error("lists.range needs a literal bound of at most {MAX_GENERATED_LIST}, so that its cost is known")]
    UnboundedRange,
    #[error("the expression does not compile: {0}")]
    Syntax(String),
    #[error("the expression crashed the CEL parser")]
    ParserCrashed,
}
