//! Released versions of the WIT contract are never edited: each file's SHA-256 is pinned here.
//! A new version adds its folder under `wit/` and a line below; an old line never changes.

use sha2::{Digest, Sha256};
use std::path::Path;

const RELEASED: &[(&str, &str)] = &[
    (
        "v0.1.0/spanwise.wit",
        "791656363198a4caaea592f29384e66cc561bbe7026f383c227ddf125185aadc",
    ),
    (
        "v0.1.1/spanwise.wit",
        "bd254249ec22a27d9542be24dd04e993d00c32b7b76899fa0d5940fbbbfe2727",
    ),
    (
        "v0.1.2/spanwise.wit",
        "f1ab0fc91c81eb504a8ed29b34be16ef06cd38c4d5db72a9a3fcc52bed0e6540",
    ),
    (
        "v0.1.3/spanwise.wit",
        "5f159980bdb25452404f32c02a058cc71ae91bc8fd97ecd2f87f05a73ca36e1e",
    ),
    (
        "v0.1.4/spanwise.wit",
        "5cebec6a8b2f0f5dd3d26cc50a8c293e15f68a26e245b4aeedf54003abe0fdd8",
    ),
    (
        "v0.1.5/spanwise.wit",
        "9a09f12f253859d3592c6e55292b5406d1dd3f76249a51f38b63fefd024c3803",
    ),
    (
        "v0.1.6/spanwise.wit",
        "711765100743b5e4eece3c035c1c3c0cd1de5d88c3d08340cc82e44af2cf7614",
    ),
    (
        "v0.1.7/spanwise.wit",
        "b2b762deb615075f1859ae9db5ea210e3ae5dfc651d183222942935ae5168163",
    ),
];

fn wit_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

#[test]
fn released_versions_are_unchanged() {
    for (file, pinned) in RELEASED {
        let bytes = std::fs::read(wit_dir().join(file)).expect("the released file exists");
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            *pinned,
            "wit/{file} was edited after its release; add a new version instead"
        );
    }
}

#[test]
fn the_current_version_is_the_one_this_crate_mirrors() {
    let current = wit_dir().join(format!("v{}/spanwise.wit", spanwise_abi::WIT_VERSION));
    let text = std::fs::read_to_string(&current).expect("the current version's folder exists");
    assert!(
        text.contains(&format!(
            "package spanwise:processor@{};",
            spanwise_abi::WIT_VERSION
        )),
        "{} does not declare version {}",
        current.display(),
        spanwise_abi::WIT_VERSION
    );
}
