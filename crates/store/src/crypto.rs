//! Cryptographic primitives of bizenv, on the Chinese national algorithms (国密) where a
//! standard one exists: SM3 digests and HMAC-SM3, SM4 field encryption, keyed blind indexes
//! for personal values, random tokens, and argon2id password hashes (no 国密 password hash
//! exists; argon2id is the memory-hard choice).
//!
//! Personal data (phones, names of raters) is stored sealed by [`FieldCipher`] and found or
//! de-duplicated through [`BlindIndex`], so the database alone never reveals it.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sm3::{Digest, Sm3};
use sm4::Sm4;

type HmacSm3 = Hmac<Sm3>;
type Sm4Ctr = ctr::Ctr128BE<Sm4>;

/// Prefix of sealed field text; the version lets a later scheme sit beside this one.
const SEALED_PREFIX: &str = "sm4ctr1:";
/// Bytes of the random IV (one SM4 block, the whole CTR counter block).
const IV_LEN: usize = 16;
/// Bytes of HMAC-SM3 kept as the tag: 128 bits is ample and keeps columns short.
const TAG_LEN: usize = 16;

/// What can go wrong in this module (internal errors, never shown to users as such).
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The sealed text is not in the expected form (prefix, hex, length).
    #[error("malformed sealed value: {0}")]
    Format(&'static str),
    /// The tag does not match: the value was altered or sealed under another key.
    #[error("sealed value failed authentication")]
    Tampered,
    /// The authenticated plain text is not UTF-8.
    #[error("decrypted value is not UTF-8")]
    NotUtf8,
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// SM3 digest of `data`, lower-case hex (64 chars).
pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(Sm3::digest(data))
}

/// HMAC-SM3 of `data` under `key`.
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = new_hmac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A fresh HMAC-SM3 instance; HMAC takes keys of any length, so this cannot fail.
fn new_hmac(key: &[u8]) -> HmacSm3 {
    <HmacSm3 as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// `N` random bytes from the OS; panics if the OS cannot supply them, as there is no safe fallback.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the OS random number generator failed");
    buf
}

/// A random token for sessions, CSRF and API tokens: 32 random bytes, hex (64 chars).
pub fn random_token() -> String {
    hex::encode(random_bytes::<32>())
}

/// Encrypts personal fields with SM4-CTR under a random 16-byte IV, then authenticates IV‖ciphertext with HMAC-SM3 (encrypt-then-MAC).
#[derive(Clone)]
pub struct FieldCipher {
    enc_key: [u8; 16],
    mac_key: [u8; 32],
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys must never reach logs or panic messages.
        f.write_str("FieldCipher(..)")
    }
}

impl FieldCipher {
    /// A cipher with separate keys for encryption and authentication.
    pub fn new(enc_key: [u8; 16], mac_key: [u8; 32]) -> Self {
        Self { enc_key, mac_key }
    }

    /// Text form: "sm4ctr1:" + hex(iv ‖ ciphertext ‖ tag[..16]).
    pub fn encrypt(&self, plain: &str) -> String {
        // A random IV per value: CTR must never reuse a counter block under one key, and equal
        // values must not look equal in the database (look-ups go through the blind index).
        let iv: [u8; IV_LEN] = random_bytes();
        let mut sealed = Vec::with_capacity(IV_LEN + plain.len() + TAG_LEN);
        sealed.extend_from_slice(&iv);
        sealed.extend_from_slice(plain.as_bytes());
        Sm4Ctr::new(&self.enc_key.into(), &iv.into()).apply_keystream(&mut sealed[IV_LEN..]);
        let tag = hmac_sm3(&self.mac_key, &sealed);
        sealed.extend_from_slice(&tag[..TAG_LEN]);
        format!("{SEALED_PREFIX}{}", hex::encode(sealed))
    }

    /// Opens a value sealed by [`FieldCipher::encrypt`] under the same keys.
    pub fn decrypt(&self, sealed: &str) -> Result<String, CryptoError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(CryptoError::Format("unknown prefix"))?;
        // Only canonical lower-case hex, so each stored value has exactly one accepted spelling.
        if !body.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(CryptoError::Format("not lower-case hex"));
        }
        let bytes = hex::decode(body).map_err(|_| CryptoError::Format("bad hex"))?;
        if bytes.len() < IV_LEN + TAG_LEN {
            return Err(CryptoError::Format("too short"));
        }
        let (authenticated, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        // Check the tag before touching the ciphertext (encrypt-then-MAC); the comparison is
        // constant-time so timing does not leak how much of a forged tag was right.
        let mut mac = new_hmac(&self.mac_key);
        mac.update(authenticated);
        mac.verify_truncated_left(tag)
            .map_err(|_| CryptoError::Tampered)?;
        let (iv, ciphertext) = authenticated.split_at(IV_LEN);
        let iv: [u8; IV_LEN] = iv.try_into().expect("split at IV_LEN");
        let mut plain = ciphertext.to_vec();
        Sm4Ctr::new(&self.enc_key.into(), &iv.into()).apply_keystream(&mut plain);
        String::from_utf8(plain).map_err(|_| CryptoError::NotUtf8)
    }
}

/// Keyed blind index for look-ups and de-duplication of personal values: hex HMAC-SM3 under its own key of the normalised value.
#[derive(Clone)]
pub struct BlindIndex {
    key: [u8; 32],
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Without the key the index cannot be brute-forced over the small phone space.
        f.write_str("BlindIndex(..)")
    }
}

impl BlindIndex {
    /// A blind index under `key`, which must differ from the field cipher's keys.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The index of `value` after [`normalise_phone`], 64 lower-case hex chars.
    pub fn of(&self, value: &str) -> String {
        hex::encode(hmac_sm3(&self.key, normalise_phone(value).as_bytes()))
    }

    /// A MAC of `value` (not normalised) under a key derived for `purpose`: HMAC-SM3 of the
    /// value under HMAC-SM3(index key, purpose). `purpose` holds a space, which
    /// [`normalise_phone`] drops, so the derived key is no stored index of any value.
    pub fn keyed_mac(&self, purpose: &str, value: &str) -> String {
        debug_assert!(purpose.contains(' '));
        let key = hmac_sm3(&self.key, purpose.as_bytes());
        hex::encode(hmac_sm3(&key, value.as_bytes()))
    }
}

/// Normalises a value before indexing: trims, drops whitespace and '-', and for phone-like values (optional '+' then digits) strips "+86", or "86" when 13 digits remain.
///
/// `"+86 138-0013-8000"` → `"13800138000"`; `"8613800138000"` → `"13800138000"`; a name
/// such as `"张 三"` only loses its spaces. A bare "86" is stripped only from 13 digits (86 and
/// an 11-digit mobile number), so local numbers that merely start with 86 stay as they are.
pub fn normalise_phone(s: &str) -> String {
    let compact: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let national = if let Some(rest) = compact.strip_prefix("+86")
        && all_digits(rest)
    {
        Some(rest)
    } else if compact.len() == 13 && all_digits(&compact) {
        compact.strip_prefix("86")
    } else {
        None
    };
    national.map_or_else(|| compact.clone(), str::to_owned)
}

/// Hashes a password with argon2id (default params of the crate, PHC string).
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| CryptoError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC `hash`; a malformed hash is simply false.
pub fn verify_password(hash: &str, password: &str) -> bool {
    // The hash's own algorithm and parameters are used, so older parameter sets keep working.
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm4::cipher::BlockCipherEncrypt;

    #[test]
    fn a_keyed_mac_is_under_a_key_of_its_own() {
        let index = BlindIndex::new([7u8; 32]);
        let mac = index.keyed_mac("rating device cookie", "0123abcd");
        assert_eq!(mac, index.keyed_mac("rating device cookie", "0123abcd"));
        assert_eq!(mac.len(), 64);
        // by hand: HMAC(HMAC(key, purpose), value)
        let derived = hmac_by_hand(&[7u8; 32], b"rating device cookie");
        assert_eq!(mac, hex::encode(hmac_by_hand(&derived, b"0123abcd")));
        // neither the value's index nor the index of any text naming the purpose
        assert_ne!(mac, index.of("0123abcd"));
        assert_ne!(mac, index.of("ratingdevicecookie0123abcd"));
        assert_ne!(mac, index.keyed_mac("another purpose", "0123abcd"));
        assert_ne!(
            hex::encode(derived),
            index.of("rating device cookie"),
            "the derived key is no stored index"
        );
    }

    /// HMAC per RFC 2104 built from SM3 alone, as an independent check of `hmac_sm3`.
    fn hmac_by_hand(key: &[u8], data: &[u8]) -> [u8; 32] {
        const BLOCK: usize = 64;
        let mut k = [0u8; BLOCK];
        if key.len() > BLOCK {
            k[..32].copy_from_slice(&Sm3::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sm3::new().chain_update(&ipad).chain_update(data).finalize();
        Sm3::new()
            .chain_update(&opad)
            .chain_update(inner)
            .finalize()
            .into()
    }

    fn cipher() -> FieldCipher {
        FieldCipher::new([7u8; 16], [9u8; 32])
    }

    #[test]
    fn sm3_standard_vector() {
        // GB/T 32905-2016, example 1.
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn hmac_sm3_matches_hand_construction() {
        let data = b"bizenv audit chain entry";
        let short_key = b"short key";
        let long_key = [0xa5u8; 100];
        assert_eq!(hmac_sm3(short_key, data), hmac_by_hand(short_key, data));
        assert_eq!(hmac_sm3(&long_key, data), hmac_by_hand(&long_key, data));
        assert_ne!(hmac_sm3(short_key, data), hmac_sm3(&long_key, data));
    }

    #[test]
    fn sm4_standard_vector() {
        // GB/T 32907-2016, appendix A example 1: key = plain text.
        let key: [u8; 16] = hex::decode("0123456789abcdeffedcba9876543210")
            .unwrap()
            .try_into()
            .unwrap();
        let sm4 = <Sm4 as KeyInit>::new(&key.into());
        let mut block = key.into();
        sm4.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }

    #[test]
    fn random_values_differ() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_token());
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }

    #[test]
    fn field_cipher_round_trip() {
        let c = cipher();
        for plain in ["13800138000", "张三", "王小明 138-0013-8000", ""] {
            let sealed = c.encrypt(plain);
            assert!(sealed.starts_with("sm4ctr1:"));
            assert_eq!(c.decrypt(&sealed).unwrap(), plain);
        }
    }

    #[test]
    fn field_cipher_is_randomised_and_hides_the_value() {
        let c = cipher();
        let plain = "13800138000";
        let a = c.encrypt(plain);
        let b = c.encrypt(plain);
        assert_ne!(a, b);
        assert!(!a.contains(plain));
        assert!(!a.contains(&hex::encode(plain)));
        assert_eq!(format!("{c:?}"), "FieldCipher(..)");
    }

    #[test]
    fn field_cipher_refuses_any_altered_character() {
        let c = cipher();
        let sealed = c.encrypt("张三");
        for (i, ch) in sealed.char_indices() {
            for other in [if ch == '0' { '1' } else { '0' }, ch.to_ascii_uppercase()] {
                if other == ch {
                    continue;
                }
                let mut altered = sealed.clone();
                altered.replace_range(i..i + ch.len_utf8(), &other.to_string());
                assert!(c.decrypt(&altered).is_err(), "position {i}: {altered}");
            }
        }
    }

    #[test]
    fn field_cipher_refuses_wrong_key_and_malformed_text() {
        let c = cipher();
        let sealed = c.encrypt("13800138000");
        let other_mac = FieldCipher::new([7u8; 16], [8u8; 32]);
        assert!(matches!(
            other_mac.decrypt(&sealed),
            Err(CryptoError::Tampered)
        ));
        let other_enc = FieldCipher::new([6u8; 16], [9u8; 32]);
        assert_ne!(
            other_enc.decrypt(&sealed).ok().as_deref(),
            Some("13800138000")
        );
        let body = sealed.strip_prefix("sm4ctr1:").unwrap();
        for bad in [
            format!("sm4ctr2:{body}"),
            body.to_owned(),
            format!("sm4ctr1:{body}0"),
            format!("sm4ctr1:{}", &body[..62]),
            "sm4ctr1:".to_owned(),
            format!("sm4ctr1:{}", &body[..body.len() - 2]),
        ] {
            assert!(c.decrypt(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_cipher_refuses_invalid_utf8_even_if_authentic() {
        // Only reachable with the keys; checks the error path rather than panicking.
        let c = cipher();
        let iv = [1u8; IV_LEN];
        let mut body = iv.to_vec();
        let mut ct = vec![0xff, 0xfe];
        Sm4Ctr::new(&c.enc_key.into(), &iv.into()).apply_keystream(&mut ct);
        body.extend_from_slice(&ct);
        let tag = hmac_sm3(&c.mac_key, &body);
        body.extend_from_slice(&tag[..TAG_LEN]);
        let sealed = format!("sm4ctr1:{}", hex::encode(body));
        assert!(matches!(c.decrypt(&sealed), Err(CryptoError::NotUtf8)));
    }

    #[test]
    fn blind_index_is_deterministic_and_keyed() {
        let idx = BlindIndex::new([3u8; 32]);
        let a = idx.of("13800138000");
        assert_eq!(a, idx.of("13800138000"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert!(!a.contains("13800138000"));
        for form in [
            "+86 138-0013-8000",
            "+8613800138000",
            "8613800138000",
            " 138 0013 8000 ",
            "138-0013-8000",
        ] {
            assert_eq!(idx.of(form), a, "{form}");
        }
        assert_ne!(idx.of("13800138001"), a);
        assert_ne!(BlindIndex::new([4u8; 32]).of("13800138000"), a);
        assert_eq!(format!("{idx:?}"), "BlindIndex(..)");
    }

    #[test]
    fn phone_normalisation() {
        assert_eq!(normalise_phone("+86 138-0013-8000"), "13800138000");
        assert_eq!(normalise_phone("8613800138000"), "13800138000");
        assert_eq!(normalise_phone("0531-8888 6666"), "053188886666");
        // "86" is kept unless it leaves an 11-digit mobile number.
        assert_eq!(normalise_phone("86123456"), "86123456");
        assert_eq!(normalise_phone(" 张 三 "), "张三");
        assert_eq!(normalise_phone("+86"), "+86");
    }

    #[test]
    fn password_hash_and_verify() {
        let hash = hash_password("Correct-Horse-9").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "Correct-Horse-9"));
        assert!(!verify_password(&hash, "correct-horse-9"));
        assert!(!verify_password("not a hash", "Correct-Horse-9"));
        assert!(!verify_password("", ""));
        assert!(!verify_password(&hash[..hash.len() - 4], "Correct-Horse-9"));
        // Salted: the same password hashes differently.
        assert_ne!(hash, hash_password("Correct-Horse-9").unwrap());
    }
}
