//! Package use cases: uploading a package into the repository (streamed,
//! digest-checked) and listing what it holds. Models, scripts and plug-in
//! deliveries then name packages by digest.

use crate::audit::Act;
use crate::repository::{Stored, Upload};
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::rights::{Action, Caller};

/// An upload under way, for one caller.
#[derive(Debug)]
pub struct PackageUpload {
    upload: Upload,
    /// The digest the caller claims; the bytes must hash to it.
    expected: String,
}

impl PackageUpload {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        Ok(self.upload.write(bytes)?)
    }

    pub fn size(&self) -> i64 {
        self.upload.size()
    }
}

impl Services {
    /// Starts an upload of the package whose sha256 is `expected`. Needs
    /// `change` on some site (packages are shared by digest; models and
    /// scripts, which name them, are per site and checked there).
    pub fn begin_upload(&self, caller: &Caller, expected: &str) -> Result<PackageUpload, Failure> {
        if !outfit_domain::model::is_sha256_hex(expected) {
            return Err(
                Refusal::invalid(format!("`{expected}` is not a sha256 digest (64 lowercase hex digits)")).into()
            );
        }
        if !caller.principal.may_somewhere(Action::Change) {
            let refusal = Refusal::new(
                RefusalKind::Forbidden,
                "no right to change anything: uploading packages needs `change` on a site",
            );
            let act = Act { action: "UploadPackage", site: None, object: expected.to_owned() };
            return Err(self.refused(caller, &act, refusal));
        }
        Ok(PackageUpload { upload: self.repository.begin()?, expected: expected.to_owned() })
    }

    /// Stores the uploaded package if its bytes hash to the digest claimed.
    pub fn finish_upload(&self, caller: &Caller, upload: PackageUpload) -> Result<Stored, Failure> {
        let act = Act { action: "UploadPackage", site: None, object: upload.expected.clone() };
        self.audited(caller, act, || {
            let what = format!("upload {}", upload.expected);
            let stored = upload.upload.finish(Some(&upload.expected), &what)?;
            let detail = format!("{} bytes", stored.size);
            Ok((stored, detail))
        })
    }

    /// Every package the repository holds. Needs `read` on some site.
    pub fn packages(&self, caller: &Caller) -> Result<Vec<Stored>, Failure> {
        if !caller.principal.may_somewhere(Action::Read) {
            return Err(Refusal::new(RefusalKind::Forbidden, "no right to read anything").into());
        }
        Ok(self.repository.list()?)
    }
}
