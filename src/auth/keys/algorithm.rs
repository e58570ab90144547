//! The signing algorithms (`JWT_ALGORITHM`) and their key material: generating a key pair
//! (ring for Ed25519 and P-256, the `rsa` crate for RSA, which ring cannot generate), reading
//! one from a PEM file, and the public half as a JWK. Nothing here is hand-rolled: the JWK's
//! `x`/`y`/`n`/`e` are base64url of the bytes the crates hand out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};

/// Size of generated RSA keys (NIST SP 800-57: 2048 bits is good through 2030).
const RSA_BITS: usize = 2048;

/// What `JWT_ALGORITHM` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 with the shared `JWT_SECRET` (the seeds' algorithm; the default).
    Hs256,
    /// Ed25519.
    EdDsa,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 4] = [Self::Hs256, Self::EdDsa, Self::Es256, Self::Rs256];

    /// The JOSE name: `HS256`, `EdDSA`, `ES256`, `RS256`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    pub fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::EdDsa => Algorithm::EdDSA,
            Self::Es256 => Algorithm::ES256,
            Self::Rs256 => Algorithm::RS256,
        }
    }

    pub fn is_asymmetric(self) -> bool {
        self != Self::Hs256
    }
}

impl std::str::FromStr for SigningAlgorithm {
    type Err = ();

    /// The JOSE names, in any case (`eddsa` is `EdDSA`).
    fn from_str(value: &str) -> Result<Self, ()> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(value.trim()))
            .ok_or(())
    }
}

/// A key pair: the private key as the DER `jsonwebtoken::EncodingKey` takes for its algorithm
/// (PKCS#8 for Ed25519 and P-256, PKCS#1 for RSA), and the public key as a JWK.
pub struct KeyPair {
    pub algorithm: SigningAlgorithm,
    pub kid: String,
    pub private_der: Vec<u8>,
    pub public_jwk: Jwk,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("HS256 has no key pair: its key is JWT_SECRET")]
    Symmetric,
    #[error("generating a key failed")]
    Generate,
    #[error("not a PEM file")]
    NotPem,
    #[error("the PEM holds a {found:?}, not an unencrypted {algorithm} private key (PKCS#8 `PRIVATE KEY`{rsa})")]
    WrongPem {
        algorithm: &'static str,
        found: String,
        rsa: &'static str,
    },
    #[error("the private key is not a valid {0} key")]
    Invalid(&'static str),
}

impl KeyPair {
    /// A new random key pair.
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let private_der = match algorithm {
            SigningAlgorithm::Hs256 => return Err(KeyError::Symmetric),
            SigningAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec(),
            SigningAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| KeyError::Generate)?
                    .as_ref()
                    .to_vec()
            }
            SigningAlgorithm::Rs256 => {
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
                    .map_err(|_| KeyError::Generate)?;
                key.to_pkcs1_der()
                    .map_err(|_| KeyError::Generate)?
                    .as_bytes()
                    .to_vec()
            }
        };
        Self::from_der(algorithm, private_der)
    }

    /// The key pair in a PEM file's text (`JWT_PRIVATE_KEY_FILE`): PKCS#8 `PRIVATE KEY`, or
    /// for RSA also PKCS#1 `RSA PRIVATE KEY`.
    pub fn from_pem(algorithm: SigningAlgorithm, text: &str) -> Result<Self, KeyError> {
        let pem = pem::parse(text).map_err(|_| KeyError::NotPem)?;
        let der = match (algorithm, pem.tag()) {
            (SigningAlgorithm::Hs256, _) => return Err(KeyError::Symmetric),
            (SigningAlgorithm::Rs256, "RSA PRIVATE KEY") => pem.contents().to_vec(),
            (SigningAlgorithm::Rs256, "PRIVATE KEY") => {
                rsa::RsaPrivateKey::from_pkcs8_der(pem.contents())
                    .and_then(|key| Ok(key.to_pkcs1_der()?.as_bytes().to_vec()))
                    .map_err(|_| KeyError::Invalid("RS256"))?
            }
            (_, "PRIVATE KEY") => pem.contents().to_vec(),
            (_, found) => {
                return Err(KeyError::WrongPem {
                    algorithm: algorithm.name(),
                    found: found.to_owned(),
                    rsa: if algorithm == SigningAlgorithm::Rs256 {
                        " or PKCS#1 `RSA PRIVATE KEY`"
                    } else {
                        ""
                    },
                })
            }
        };
        Self::from_der(algorithm, der)
    }

    /// The key pair of a private key in the DER this module stores (see `KeyPair`).
    pub fn from_der(algorithm: SigningAlgorithm, private_der: Vec<u8>) -> Result<Self, KeyError> {
        let invalid = || KeyError::Invalid(algorithm.name());
        let parameters = match algorithm {
            SigningAlgorithm::Hs256 => return Err(KeyError::Symmetric),
            SigningAlgorithm::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&private_der)
                    .map_err(|_| invalid())?;
                AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
                })
            }
            SigningAlgorithm::Es256 => {
                let rng = SystemRandom::new();
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &private_der, &rng)
                        .map_err(|_| invalid())?;
                // The uncompressed point: 0x04, then x and y, 32 bytes each.
                let point = pair.public_key().as_ref();
                let (x, y) = point.get(1..).ok_or_else(invalid)?.split_at(32);
                AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                })
            }
            SigningAlgorithm::Rs256 => {
                let key =
                    rsa::RsaPrivateKey::from_pkcs1_der(&private_der).map_err(|_| invalid())?;
                AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                    e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                })
            }
        };
        let kid = key_id(&parameters);
        let public_jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(key_algorithm(algorithm)),
                key_id: Some(kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: parameters,
        };
        Ok(Self {
            algorithm,
            kid,
            private_der,
            public_jwk,
        })
    }

    /// What signs with this key.
    pub fn encoding_key(&self) -> EncodingKey {
        encoding_key(self.algorithm, &self.private_der)
    }
}

/// The signing key for a stored private key (see `KeyPair` for the DER of each algorithm).
pub fn encoding_key(algorithm: SigningAlgorithm, private_der: &[u8]) -> EncodingKey {
    match algorithm {
        SigningAlgorithm::Hs256 => EncodingKey::from_secret(private_der),
        SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(private_der),
        SigningAlgorithm::Es256 => EncodingKey::from_ec_der(private_der),
        SigningAlgorithm::Rs256 => EncodingKey::from_rsa_der(private_der),
    }
}

fn key_algorithm(algorithm: SigningAlgorithm) -> KeyAlgorithm {
    match algorithm {
        SigningAlgorithm::Hs256 => KeyAlgorithm::HS256,
        SigningAlgorithm::EdDsa => KeyAlgorithm::EdDSA,
        SigningAlgorithm::Es256 => KeyAlgorithm::ES256,
        SigningAlgorithm::Rs256 => KeyAlgorithm::RS256,
    }
}

/// A key's id: the first 128 bits of the SHA-256 of its public parameters, base64url. The same
/// public key always gets the same id (a PEM file loaded by every replica agrees).
fn key_id(parameters: &AlgorithmParameters) -> String {
    let public = serde_json::to_vec(parameters).unwrap_or_default();
    let digest = Sha256::digest(&public);
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_others_are_refused() {
        assert_eq!("eddsa".parse(), Ok(SigningAlgorithm::EdDsa));
        assert_eq!(" ES256".parse(), Ok(SigningAlgorithm::Es256));
        assert_eq!("HS256".parse(), Ok(SigningAlgorithm::Hs256));
        assert_eq!("none".parse::<SigningAlgorithm>(), Err(()));
        assert_eq!("HS512".parse::<SigningAlgorithm>(), Err(()));
    }

    #[test]
    fn a_generated_key_signs_what_its_jwk_verifies() {
        for algorithm in [SigningAlgorithm::EdDsa, SigningAlgorithm::Es256] {
            let pair = KeyPair::generate(algorithm).unwrap();
            let claims = serde_json::json!({"sub": "1"});
            let header = jsonwebtoken::Header::new(algorithm.jwt());
            let token = jsonwebtoken::encode(&header, &claims, &pair.encoding_key()).unwrap();
            let decoding = jsonwebtoken::DecodingKey::from_jwk(&pair.public_jwk).unwrap();
            let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
            validation.required_spec_claims.clear();
            let decoded =
                jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
            assert_eq!(decoded.claims, claims);
            let again = KeyPair::from_der(algorithm, pair.private_der.clone()).unwrap();
            assert_eq!(
                again.kid, pair.kid,
                "the kid is a function of the public key"
            );
        }
    }

    #[test]
    fn a_pem_of_another_kind_is_refused_with_a_reason() {
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = KeyPair::from_pem(SigningAlgorithm::EdDsa, pem)
            .err()
            .unwrap();
        assert!(error.to_string().contains("CERTIFICATE"), "{error}");
        assert!(KeyPair::from_pem(SigningAlgorithm::EdDsa, "nope").is_err());
    }
}
