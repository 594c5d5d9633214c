//! Reading the one pickle PsychRNN puts in its weight files, without executing it.
//!
//! `np.savez(path, dale_ratio=None, ...)` stores `dale_ratio` as a 0-d **object** array,
//! and NumPy writes object arrays as a pickle of the whole `ndarray` (protocol 3 or 4):
//!
//! ```text
//! numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')    # REDUCE
//!   .__setstate__((1, (), numpy.dtype('O8', False, True) + state, False, [None]))  # BUILD
//! ```
//!
//! [`object_scalar`] decodes the opcode stream into a value tree — a symbolic stack machine
//! that only *records* GLOBAL / REDUCE / BUILD, never looks anything up or calls it — and
//! accepts exactly two shapes: that 0-d object-array pickle holding `None` or a Python
//! float (module `numpy.core.multiarray` or `numpy._core.multiarray`), or a bare pickled
//! `None` / float (`\x80\x02N.`, `\x80\x03G…​.`). Anything else is refused. A float
//! `dale_ratio` normally arrives as a plain `<f8` 0-d array and never reaches this module.
//!
//! [`none_object_array`] writes the `None` case, in protocol 3 with the module name
//! `numpy.core.multiarray`, which NumPy 1.x and 2.x both load.

/// What the pickle holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// Python `None`.
    None,
    /// A Python float.
    Float(f64),
}

/// Why a pickle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pickle refused at byte {at}: {reason} (only a pickled None or float is accepted; nothing is executed)")]
pub struct PickleError {
    /// Byte offset.
    pub at: usize,
    /// What was found.
    pub reason: String,
}

/// A decoded (never executed) pickle value.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Mark,
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<V>),
    List(Vec<V>),
    Global(String, String),
    Reduce(Box<V>, Box<V>),
    Build(Box<V>, Box<V>),
}

/// Largest pickle looked at (a None/float object array is ~150 bytes).
const MAX_LEN: usize = 4096;

fn decode(p: &[u8]) -> Result<V, PickleError> {
    let err = |at: usize, reason: String| PickleError { at, reason };
    if p.len() > MAX_LEN {
        return Err(err(
            0,
            format!("{} bytes is too long for a scalar", p.len()),
        ));
    }
    let mut stack: Vec<V> = Vec::new();
    let mut memo: Vec<Option<V>> = Vec::new();
    let mut i = 0usize;
    let take = |i: &mut usize, n: usize| -> Result<&[u8], PickleError> {
        let s = p
            .get(*i..*i + n)
            .ok_or_else(|| err(*i, "truncated".into()))?;
        *i += n;
        Ok(s)
    };
    let pop = |stack: &mut Vec<V>, at: usize| {
        stack.pop().ok_or_else(|| err(at, "stack underflow".into()))
    };
    let pop_mark = |stack: &mut Vec<V>, at: usize| -> Result<Vec<V>, PickleError> {
        let k = stack
            .iter()
            .rposition(|v| *v == V::Mark)
            .ok_or_else(|| err(at, "no MARK".into()))?;
        let items = stack.split_off(k + 1);
        stack.pop();
        Ok(items)
    };
    let put = |memo: &mut Vec<Option<V>>, idx: usize, v: V, at: usize| -> Result<(), PickleError> {
        if idx > 64 {
            return Err(err(at, format!("memo index {idx} too large")));
        }
        if memo.len() <= idx {
            memo.resize(idx + 1, None);
        }
        memo[idx] = Some(v);
        Ok(())
    };
    let utf8 = |b: &[u8], at: usize| {
        String::from_utf8(b.to_vec()).map_err(|_| err(at, "string is not UTF-8".into()))
    };
    loop {
        let at = i;
        let op = *take(&mut i, 1)?.first().unwrap_or(&0);
        match op {
            0x80 => {
                let proto = take(&mut i, 1)?[0];
                if !(2..=5).contains(&proto) {
                    return Err(err(at, format!("protocol {proto}")));
                }
            }
            0x95 => {
                take(&mut i, 8)?; // FRAME: a length hint only
            }
            b'.' => {
                let v = pop(&mut stack, at)?;
                if !stack.is_empty() {
                    return Err(err(at, "STOP with values left on the stack".into()));
                }
                if i != p.len() {
                    return Err(err(i, "bytes after STOP".into()));
                }
                return Ok(v);
            }
            b'(' => stack.push(V::Mark),
            b'N' => stack.push(V::None),
            0x88 => stack.push(V::Bool(true)),
            0x89 => stack.push(V::Bool(false)),
            b'K' => stack.push(V::Int(take(&mut i, 1)?[0] as i64)),
            b'M' => {
                let b = take(&mut i, 2)?;
                stack.push(V::Int(u16::from_le_bytes([b[0], b[1]]) as i64))
            }
            b'J' => {
                let b = take(&mut i, 4)?;
                stack.push(V::Int(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64))
            }
            b'G' => {
                let b: [u8; 8] = take(&mut i, 8)?.try_into().expect("8 bytes");
                stack.push(V::Float(f64::from_be_bytes(b)))
            }
            0x8c => {
                let n = take(&mut i, 1)?[0] as usize;
                let s = utf8(take(&mut i, n)?, at)?;
                stack.push(V::Str(s))
            }
            b'X' => {
                let b = take(&mut i, 4)?;
                let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let s = utf8(take(&mut i, n)?, at)?;
                stack.push(V::Str(s))
            }
            b'C' => {
                let n = take(&mut i, 1)?[0] as usize;
                stack.push(V::Bytes(take(&mut i, n)?.to_vec()))
            }
            b'B' => {
                let b = take(&mut i, 4)?;
                let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                stack.push(V::Bytes(take(&mut i, n)?.to_vec()))
            }
            b'c' => {
                // GLOBAL "module\nname\n"
                let rest = &p[i..];
                let nl1 = rest
                    .iter()
                    .position(|&c| c == b'\n')
                    .ok_or_else(|| err(at, "bad GLOBAL".into()))?;
                let module = utf8(&rest[..nl1], at)?;
                let rest2 = &rest[nl1 + 1..];
                let nl2 = rest2
                    .iter()
                    .position(|&c| c == b'\n')
                    .ok_or_else(|| err(at, "bad GLOBAL".into()))?;
                let name = utf8(&rest2[..nl2], at)?;
                i += nl1 + 1 + nl2 + 1;
                stack.push(V::Global(module, name))
            }
            0x93 => {
                let name = pop(&mut stack, at)?;
                let module = pop(&mut stack, at)?;
                match (module, name) {
                    (V::Str(m), V::Str(n)) => stack.push(V::Global(m, n)),
                    _ => return Err(err(at, "STACK_GLOBAL without two strings".into())),
                }
            }
            0x94 => {
                let v = stack
                    .last()
                    .cloned()
                    .ok_or_else(|| err(at, "MEMOIZE on empty stack".into()))?;
                let idx = memo.len();
                put(&mut memo, idx, v, at)?
            }
            b'q' => {
                let idx = take(&mut i, 1)?[0] as usize;
                let v = stack
                    .last()
                    .cloned()
                    .ok_or_else(|| err(at, "BINPUT on empty stack".into()))?;
                put(&mut memo, idx, v, at)?
            }
            b'r' => {
                let b = take(&mut i, 4)?;
                let idx = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let v = stack
                    .last()
                    .cloned()
                    .ok_or_else(|| err(at, "LONG_BINPUT on empty stack".into()))?;
                put(&mut memo, idx, v, at)?
            }
            b'h' | b'j' => {
                let idx = if op == b'h' {
                    take(&mut i, 1)?[0] as usize
                } else {
                    let b = take(&mut i, 4)?;
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                };
                let v = memo
                    .get(idx)
                    .cloned()
                    .flatten()
                    .ok_or_else(|| err(at, format!("memo {idx} is empty")))?;
                stack.push(v)
            }
            b')' => stack.push(V::Tuple(vec![])),
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err(err(at, "stack underflow".into()));
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(V::Tuple(items))
            }
            b't' => {
                let items = pop_mark(&mut stack, at)?;
                stack.push(V::Tuple(items))
            }
            b']' => stack.push(V::List(vec![])),
            b'a' => {
                let v = pop(&mut stack, at)?;
                match stack.last_mut() {
                    Some(V::List(l)) => l.push(v),
                    _ => return Err(err(at, "APPEND without a list".into())),
                }
            }
            b'e' => {
                let items = pop_mark(&mut stack, at)?;
                match stack.last_mut() {
                    Some(V::List(l)) => l.extend(items),
                    _ => return Err(err(at, "APPENDS without a list".into())),
                }
            }
            b'R' => {
                let args = pop(&mut stack, at)?;
                let f = pop(&mut stack, at)?;
                stack.push(V::Reduce(Box::new(f), Box::new(args)))
            }
            b'b' => {
                let state = pop(&mut stack, at)?;
                let obj = pop(&mut stack, at)?;
                stack.push(V::Build(Box::new(obj), Box::new(state)))
            }
            other => return Err(err(at, format!("opcode 0x{other:02x} is not allowed"))),
        }
        if stack.len() > 64 {
            return Err(err(at, "stack too deep".into()));
        }
    }
}

fn scalar_of(v: &V) -> Option<Scalar> {
    match v {
        V::None => Some(Scalar::None),
        V::Float(x) => Some(Scalar::Float(*x)),
        _ => None,
    }
}

fn is_global(v: &V, modules: &[&str], name: &str) -> bool {
    matches!(v, V::Global(m, n) if modules.contains(&m.as_str()) && n == name)
}

/// The value of a 0-d object-array pickle (or a bare pickle) holding `None` or a float.
pub fn object_scalar(p: &[u8]) -> Result<Scalar, PickleError> {
    let v = decode(p)?;
    if let Some(s) = scalar_of(&v) {
        return Ok(s);
    }
    let refuse = |what: &str| PickleError {
        at: 0,
        reason: what.to_string(),
    };
    let V::Build(obj, state) = &v else {
        return Err(refuse("not a 0-d ndarray"));
    };
    // obj = _reconstruct(ndarray, (0,), b'b')
    let V::Reduce(f, args) = obj.as_ref() else {
        return Err(refuse("not a 0-d ndarray"));
    };
    let multiarray = ["numpy.core.multiarray", "numpy._core.multiarray"];
    let args_ok = matches!(args.as_ref(), V::Tuple(a) if a.len() == 3
        && is_global(&a[0], &["numpy"], "ndarray")
        && a[1] == V::Tuple(vec![V::Int(0)])
        && a[2] == V::Bytes(b"b".to_vec()));
    if !is_global(f, &multiarray, "_reconstruct") || !args_ok {
        return Err(refuse("not numpy's ndarray reconstruction"));
    }
    // state = (1, (), dtype('O8'), False, [value])
    let V::Tuple(s) = state.as_ref() else {
        return Err(refuse("ndarray state is not a tuple"));
    };
    if s.len() != 5 || s[0] != V::Int(1) || s[1] != V::Tuple(vec![]) || s[3] != V::Bool(false) {
        return Err(refuse("not a 0-d C-ordered array"));
    }
    let dtype_ok = match &s[2] {
        V::Build(d, _) => matches!(d.as_ref(), V::Reduce(f, a)
            if is_global(f, &["numpy"], "dtype")
            && matches!(a.as_ref(), V::Tuple(t) if t.first() == Some(&V::Str("O8".into())))),
        _ => false,
    };
    if !dtype_ok {
        return Err(refuse("dtype is not object ('O8')"));
    }
    match &s[4] {
        V::List(items) if items.len() == 1 => {
            scalar_of(&items[0]).ok_or_else(|| refuse(&format!("the array holds {:?}", items[0])))
        }
        _ => Err(refuse("array data is not a one-element list")),
    }
}

/// A 0-d object array holding `None`, as `np.save` would write it (protocol 3, module
/// `numpy.core.multiarray`, loadable by NumPy 1.x and 2.x).
pub fn none_object_array() -> Vec<u8> {
    let mut p = vec![0x80, 3];
    p.extend_from_slice(b"cnumpy.core.multiarray\n_reconstruct\nq\x00");
    p.extend_from_slice(b"cnumpy\nndarray\nq\x01");
    p.extend_from_slice(b"K\x00\x85q\x02");
    p.extend_from_slice(b"C\x01bq\x03\x87q\x04Rq\x05");
    p.extend_from_slice(
        b"(K\x01)cnumpy\ndtype\nq\x06X\x02\x00\x00\x00O8q\x07\x89\x88\x87q\x08Rq\x09",
    );
    p.extend_from_slice(
        b"(K\x03X\x01\x00\x00\x00|q\x0aNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tq\x0bb",
    );
    p.extend_from_slice(b"\x89]q\x0cNatq\x0db.");
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `dale_ratio.npy` payload NumPy 2.4 writes for `np.savez(f, dale_ratio=None)`.
    pub(crate) const NUMPY2_NONE: &[u8] = b"\x80\x04\x95\x87\x00\x00\x00\x00\x00\x00\x00\x8c\x16numpy._core.multiarray\x94\x8c\x0c_reconstruct\x94\x93\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94K\x00\x85\x94C\x01b\x94\x87\x94R\x94(K\x01)h\x03\x8c\x05dtype\x94\x93\x94\x8c\x02O8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01|\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t\x94b\x89]\x94Nat\x94b.";

    #[test]
    fn object_scalar_accepts_numpy_none_and_float() {
        assert_eq!(object_scalar(NUMPY2_NONE), Ok(Scalar::None));
        // Same array holding 0.8 (`G` + big-endian f64 instead of `N`).
        let mut f = NUMPY2_NONE.to_vec();
        let at = f.windows(3).position(|w| w == b"]\x94N").unwrap() + 2;
        f.splice(at..at + 1, [b'G'].into_iter().chain(0.8f64.to_be_bytes()));
        assert_eq!(object_scalar(&f), Ok(Scalar::Float(0.8)));
        assert_eq!(object_scalar(&none_object_array()), Ok(Scalar::None));
    }

    #[test]
    fn object_scalar_accepts_bare_none_and_float() {
        assert_eq!(object_scalar(b"\x80\x02N."), Ok(Scalar::None));
        assert_eq!(object_scalar(b"\x80\x03N."), Ok(Scalar::None));
        let mut f = b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00G".to_vec();
        f.extend_from_slice(&0.5f64.to_be_bytes());
        f.push(b'.');
        assert_eq!(object_scalar(&f), Ok(Scalar::Float(0.5)));
    }

    #[test]
    fn object_scalar_refuses_everything_else() {
        // os.system('echo hi') — the classic: refused as data, never run.
        let evil = b"\x80\x02cos\nsystem\nq\x00X\x07\x00\x00\x00echo hiq\x01\x85q\x02Rq\x03.";
        assert!(object_scalar(evil).is_err());
        // A pickled string, an int, a list holding a string inside the ndarray.
        assert!(object_scalar(b"\x80\x03X\x01\x00\x00\x00a.").is_err());
        assert!(object_scalar(b"\x80\x03K\x05.").is_err());
        let at = NUMPY2_NONE
            .windows(12)
            .position(|w| w == b"_reconstruct")
            .unwrap();
        let mut other_global = NUMPY2_NONE.to_vec();
        other_global[at + 11] = b'X';
        assert!(
            matches!(object_scalar(&other_global), Err(e) if e.reason.contains("reconstruction"))
        );
        // Truncations and trailing bytes never panic.
        for n in 0..NUMPY2_NONE.len() {
            assert!(object_scalar(&NUMPY2_NONE[..n]).is_err(), "prefix {n}");
        }
        let mut t = NUMPY2_NONE.to_vec();
        t.push(0);
        assert!(object_scalar(&t).is_err());
        // Opcodes outside the allowed set (INST 'i', OBJ 'o', EXT1, PERSID).
        for op in [b'i', b'o', 0x82, b'P', b'Q'] {
            assert!(object_scalar(&[0x80, 2, op, b'.']).is_err());
        }
    }
}
