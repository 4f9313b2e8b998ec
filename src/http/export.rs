//! The catalogue's export stream, made so that it cannot starve the searches around it: its
//! JSON is written (and gzip-compressed when the client accepts it) on the blocking pool,
//! never on the async workers; every export in progress takes turns at one chunk at a time,
//! so all of them together keep at most one core busy; a chunk is written only once the
//! client has taken the one before; and only [`MAX_EXPORTS`] run at once. The request
//! timeout does not cut it: the answer begins at once, and the stream ends when the
//! catalogue has been sent or the client goes away.

use std::io::Write as _;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use product_model::Product;
use tokio::sync::{Semaphore, mpsc};

use super::ApiError;

/// Exports that may run at once; another is answered 503 at once.
pub const MAX_EXPORTS: usize = 4;
/// Products written per chunk: about half a megabyte of JSON.
const CHUNK: usize = 1_000;

/// What every export shares: places for those running, and the one turn at the CPU.
pub struct Exports {
    running: Arc<Semaphore>,
    turn: Arc<Semaphore>,
}

impl Default for Exports {
    fn default() -> Self {
        Self { running: Arc::new(Semaphore::new(MAX_EXPORTS)), turn: Arc::new(Semaphore::new(1)) }
    }
}

impl Exports {
    /// Streams `products` (already in order) as NDJSON, gzip-compressed when `headers`
    /// accept it; 503 `OVERLOADED` when [`MAX_EXPORTS`] already run.
    pub fn stream(&self, products: Vec<Arc<Product>>, headers: &HeaderMap) -> Result<Response, ApiError> {
        let place = Arc::clone(&self.running)
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded("too many exports in progress, retry shortly"))?;
        let turn = Arc::clone(&self.turn);
        let gzip = accepts_gzip(headers);
        // One chunk waits for the client while the next is written.
        let (sender, receiver) = mpsc::channel::<std::io::Result<Bytes>>(1);
        tokio::spawn(async move {
            let _place = place;
            let products = Arc::new(products);
            let mut encoder = gzip.then(|| GzEncoder::new(Vec::new(), Compression::fast()));
            let mut start = 0;
            loop {
                let end = (start + CHUNK).min(products.len());
                let last = end == products.len();
                let Ok(my_turn) = turn.acquire().await else { return };
                let chunk = Arc::clone(&products);
                let written =
                    tokio::task::spawn_blocking(move || write_chunk(&chunk[start..end], encoder, last)).await;
                drop(my_turn);
                let bytes = match written {
                    Ok(Ok((bytes, rest))) => {
                        encoder = rest;
                        bytes
                    }
                    Ok(Err(error)) => {
                        let _ = sender.send(Err(error)).await;
                        return;
                    }
                    Err(panicked) => {
                        let _ = sender.send(Err(std::io::Error::other(panicked))).await;
                        return;
                    }
                };
                // Stop when the client has gone away, or once the catalogue is out.
                if (!bytes.is_empty() && sender.send(Ok(bytes)).await.is_err()) || last {
                    return;
                }
                start = end;
            }
        });
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        });
        let mut response = Body::from_stream(stream).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if gzip {
            // Set here, so the compression layer leaves the stream as it is.
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(response)
    }
}

type Encoder = Option<GzEncoder<Vec<u8>>>;

/// The NDJSON of `products`, through the encoder if there is one (finished when `last`);
/// the bytes to send and the encoder to go on with.
fn write_chunk(products: &[Arc<Product>], encoder: Encoder, last: bool) -> std::io::Result<(Bytes, Encoder)> {
    let mut json = Vec::with_capacity(products.len() * 512);
    for product in products {
        serde_json::to_writer(&mut json, product.as_ref()).map_err(std::io::Error::other)?;
        json.push(b'\n');
    }
    let Some(mut encoder) = encoder else {
        return Ok((Bytes::from(json), None));
    };
    encoder.write_all(&json)?;
    if last {
        return Ok((Bytes::from(encoder.finish()?), None));
    }
    let out = std::mem::take(encoder.get_mut());
    Ok((Bytes::from(out), Some(encoder)))
}

/// Whether `Accept-Encoding` takes gzip (by name or `*`, with a weight above zero).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let weight = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && weight > 0.0
        })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn accepts(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_is_taken_by_name_or_star_unless_weighted_zero() {
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn chunks_through_the_encoder_make_one_gzip_stream_of_the_whole() {
        let products: Vec<Arc<Product>> = data_gen::generate(5, 30).into_iter().map(Arc::new).collect();
        let mut encoder = Some(GzEncoder::new(Vec::new(), Compression::fast()));
        let mut compressed = Vec::new();
        for (i, chunk) in products.chunks(7).enumerate() {
            let (bytes, rest) = write_chunk(chunk, encoder, false).unwrap();
            compressed.extend_from_slice(&bytes);
            encoder = rest;
            assert!(encoder.is_some(), "chunk {i} keeps the encoder");
        }
        let (bytes, rest) = write_chunk(&[], encoder, true).unwrap();
        compressed.extend_from_slice(&bytes);
        assert!(rest.is_none());
        let mut text = String::new();
        flate2::read::GzDecoder::new(compressed.as_slice()).read_to_string(&mut text).unwrap();
        let plain = write_chunk(&products, None, true).unwrap().0;
        assert_eq!(text.as_bytes(), &plain[..]);
    }
}
