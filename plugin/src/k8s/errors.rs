//! Turning client errors into messages that say what failed, where, and what to do.

use kube::core::Status;

use super::client::Connection;

/// The API status of an error the server answered, if it answered.
pub fn status(err: &kube::Error) -> Option<&Status> {
    match err {
        kube::Error::Api(s) => Some(s),
        _ => None,
    }
}

pub fn code(err: &kube::Error) -> Option<u16> {
    status(err).map(|s| s.code)
}

pub fn is_not_found(err: &kube::Error) -> bool {
    code(err) == Some(404)
}

/// A message for a failed request: `doing` says what was attempted ("listing clusters").
pub fn explain(err: &kube::Error, conn: &Connection, doing: &str) -> String {
    let place = format!("{} ({})", conn.describe(), conn.server);
    match err {
        kube::Error::Api(s) => match s.code {
            401 => format!(
                "{doing}: the credentials of {place} were not accepted (401 Unauthorized); refresh them in your kubeconfig"
            ),
            403 => format!("{doing}: forbidden on {place}: {}", s.message),
            _ if s.message.is_empty() => format!("{doing}: the server at {place} answered {} {}", s.code, s.reason),
            _ => format!("{doing}: {}", s.message),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => format!(
            "{doing}: cannot reach {place}: {}; check that the cluster is up and that --kubeconfig/--context point at it",
            root_cause(err)
        ),
        other => format!("{doing} on {place}: {}", root_cause(other)),
    }
}

/// The innermost cause's text, which for network errors is the useful part ("Connection refused").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(cause) = current {
        let t = cause.to_string();
        if !text.contains(&t) {
            text = format!("{text}: {t}");
        }
        current = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        let mut s = Status::failure(message, reason);
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn codes_are_classified() {
        assert!(is_not_found(&api(404, "NotFound", "x")));
        assert!(!is_not_found(&api(409, "Conflict", "x")));
        assert_eq!(code(&api(503, "ServiceUnavailable", "x")), Some(503));
        assert_eq!(code(&kube::Error::LinesCodecMaxLineLengthExceeded), None);
    }
}
