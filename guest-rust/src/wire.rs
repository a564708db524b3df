//! The msgpack framing the ABI puts around serde's values: `[name, payload]` commands, event
//! lists, and the walk that finds where one value ends. Every header form is accepted, not only
//! the shortest (docs/abi.md).
use std::borrow::Cow;

/// Deepest nesting walked; the host refuses deeper values before they are stored.
const MAX_DEPTH: u32 = 128;

pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

pub type Result<T> = std::result::Result<T, &'static str>;

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("truncated msgpack")?;
        if end > self.bytes.len() {
            return Err("truncated msgpack");
        }
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, n: usize) -> Result<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
    }

    /// An array header's length.
    pub fn array(&mut self) -> Result<usize> {
        match self.byte()? {
            b @ 0x90..=0x9f => Ok((b & 0x0f) as usize),
            0xdc => Ok(self.uint(2)? as usize),
            0xdd => Ok(self.uint(4)? as usize),
            _ => Err("expected an array"),
        }
    }

    /// A UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str> {
        let len = match self.byte()? {
            b @ 0xa0..=0xbf => (b & 0x1f) as usize,
            0xd9 => self.uint(1)? as usize,
            0xda => self.uint(2)? as usize,
            0xdb => self.uint(4)? as usize,
            _ => return Err("expected a string"),
        };
        std::str::from_utf8(self.take(len)?).map_err(|_| "a string is not valid UTF-8")
    }

    /// The bytes of the next whole value, and whether it holds an integral float (see `integers`).
    pub fn value(&mut self) -> Result<(&'a [u8], bool)> {
        let start = self.pos;
        let mut floats = false;
        self.skip(0, &mut floats)?;
        Ok((&self.bytes[start..self.pos], floats))
    }

    fn skip(&mut self, depth: u32, floats: &mut bool) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err("msgpack nests too deep");
        }
        let b = self.byte()?;
        let (items, skip) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (2 * (b & 0x0f) as u64, 0),
            0x90..=0x9f => ((b & 0x0f) as u64, 0),
            0xa0..=0xbf => (0, (b & 0x1f) as u64),
            0xc4 | 0xd9 => (0, self.uint(1)?),
            0xc5 | 0xda => (0, self.uint(2)?),
            0xc6 | 0xdb => (0, self.uint(4)?),
            0xc7 => (0, self.uint(1)? + 1),
            0xc8 => (0, self.uint(2)? + 1),
            0xc9 => (0, self.uint(4)? + 1),
            0xca => {
                *floats |= integral_f32(self.take(4)?).is_some();
                (0, 0)
            }
            0xcb => {
                *floats |= integral_f64(self.take(8)?).is_some();
                (0, 0)
            }
            0xcc | 0xd0 => (0, 1),
            0xcd | 0xd1 => (0, 2),
            0xce | 0xd2 => (0, 4),
            0xcf | 0xd3 => (0, 8),
            0xd4 => (0, 2),
            0xd5 => (0, 3),
            0xd6 => (0, 5),
            0xd7 => (0, 9),
            0xd8 => (0, 17),
            0xdc => (self.uint(2)?, 0),
            0xdd => (self.uint(4)?, 0),
            0xde => (2 * self.uint(2)?, 0),
            0xdf => (2 * self.uint(4)?, 0),
            0xc1 => return Err("0xc1 is not msgpack"),
        };
        self.take(skip as usize)?;
        for _ in 0..items {
            self.skip(depth + 1, floats)?;
        }
        Ok(())
    }
}

fn integral_f64(bytes: &[u8]) -> Option<f64> {
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes);
    let x = f64::from_be_bytes(b);
    // Within ±2^53 every integer is exact, the range the host lets through (docs/abi.md).
    (x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_991.0).then(|| x)
}

fn integral_f32(bytes: &[u8]) -> Option<f32> {
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes);
    let x = f32::from_be_bytes(b);
    (x.fract() == 0.0 && x.abs() <= 2_147_483_520.0).then(|| x)
}

/// `value` with every integral float rewritten in place as an integer of the same size, so that
/// serde's integer types read it. Earlier hosts, and the AssemblyScript SDK, write integers past
/// 32 bits as float64s; serde's `u64` refuses a float, while its `f64` takes an integer, so the
/// rewrite loses nothing. The input is copied only when it holds such a float.
pub fn integers(value: &[u8], has_floats: bool) -> Cow<'_, [u8]> {
    if !has_floats {
        return Cow::Borrowed(value);
    }
    let mut out = value.to_vec();
    let mut reader = Reader::new(value);
    let mut floats = false;
    // Walk again, rewriting: positions in `out` match positions in `value`.
    rewrite(&mut reader, &mut out, 0, &mut floats);
    Cow::Owned(out)
}

fn rewrite(r: &mut Reader<'_>, out: &mut [u8], depth: u32, floats: &mut bool) {
    if depth > MAX_DEPTH || r.at_end() {
        return;
    }
    let at = r.pos;
    match r.bytes[at] {
        0xcb => {
            r.pos += 1;
            if let Ok(bytes) = r.take(8) {
                if let Some(x) = integral_f64(bytes) {
                    if x < 0.0 {
                        out[at] = 0xd3;
                        out[at + 1..at + 9].copy_from_slice(&(x as i64).to_be_bytes());
                    } else {
                        out[at] = 0xcf;
                        out[at + 1..at + 9].copy_from_slice(&(x as u64).to_be_bytes());
                    }
                }
            }
        }
        0xca => {
            r.pos += 1;
            if let Ok(bytes) = r.take(4) {
                if let Some(x) = integral_f32(bytes) {
                    if x < 0.0 {
                        out[at] = 0xd2;
                        out[at + 1..at + 5].copy_from_slice(&(x as i32).to_be_bytes());
                    } else {
                        out[at] = 0xce;
                        out[at + 1..at + 5].copy_from_slice(&(x as u32).to_be_bytes());
                    }
                }
            }
        }
        b @ (0x80..=0x9f | 0xdc..=0xdf) => {
            r.pos += 1;
            let n = match b {
                0x80..=0x8f => 2 * (b & 0x0f) as u64,
                0x90..=0x9f => (b & 0x0f) as u64,
                0xdc => r.uint(2).unwrap_or(0),
                0xdd => r.uint(4).unwrap_or(0),
                0xde => 2 * r.uint(2).unwrap_or(0),
                _ => 2 * r.uint(4).unwrap_or(0),
            };
            for _ in 0..n {
                rewrite(r, out, depth + 1, floats);
            }
        }
        _ => {
            // A scalar, string or binary: skip it whole.
            let _ = r.skip(depth, floats);
        }
    }
}
