//! A stand-in API server on a loopback port, for commands that talk to a cluster: each request
//! is answered by a function of its path, and a kubeconfig points at the server.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

/// An answer: the HTTP status line's code and reason (`"404 Not Found"`) and a JSON body.
pub type Answer = (&'static str, String);

/// Serves on a free loopback port until the test ends, answering each request with
/// `answer(path)`; writes a kubeconfig for it to `kubeconfig`, its context, cluster and user all
/// named `context`.
pub fn serve(kubeconfig: &Path, context: &str, answer: fn(&str) -> Answer) -> PathBuf {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || respond(stream, answer));
        }
    });
    std::fs::write(
        kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {context}\n\
             clusters: [{{name: {context}, cluster: {{server: \"http://127.0.0.1:{port}\"}}}}]\n\
             contexts: [{{name: {context}, context: {{cluster: {context}, user: {context}}}}}]\n\
             users: [{{name: {context}, user: {{token: t}}}}]\n"
        ),
    )
    .unwrap();
    kubeconfig.to_owned()
}

/// Reads one request's head and writes the answer for its path; the connection then closes.
fn respond(mut stream: TcpStream, answer: fn(&str) -> Answer) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or_default();
    let (status, body) = answer(path);
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}
