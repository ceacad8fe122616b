//! CEL rules held to limits like the apiserver's own: every expression is checked for size and
//! nesting on its source before the parser sees it, its cost is estimated over the object's shape
//! when the policy is compiled, and it is evaluated on a thread of its own with a large stack, a
//! cost check against the object at hand and a deadline.

pub mod cost;
pub mod limits;
pub mod runtime;
pub mod source;

use limits::CelLimitError;

/// Checks an expression's source, parses it and estimates its cost. The parser can panic on some
/// inputs: the panic is caught and reported like a syntax error. Call it on a thread with a
/// stack of [`limits::STACK_BYTES`].
pub fn compile_expression(expression: &str) -> Result<kube_cel::cel::Program, CelLimitError> {
    source::check(expression)?;
    let parsed = std::panic::catch_unwind(|| kube_cel::cel::Program::compile(expression))
        .map_err(|_| CelLimitError::ParserCrashed)?;
    let program = parsed.map_err(|e| CelLimitError::Syntax(e.to_string()))?;
    cost::check(&program.expression().expr)?;
    Ok(program)
}
