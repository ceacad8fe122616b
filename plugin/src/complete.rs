//! `kubectl_complete-kkp`: lets kubectl's own shell completion complete `kubectl kkp …`.
//! kubectl runs it with the words typed so far; it answers the way cobra's `__complete` does.

fn main() {}
