//! Uploads (SPEC "Uploads"): which files an attachment may be, told by the name's extension
//! and confirmed by the file's first bytes, and how large.

/// A kind of file an attachment may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// PDF.
    Pdf,
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// Word document (OOXML).
    Docx,
    /// Excel workbook (OOXML).
    Xlsx,
}

impl FileKind {
    /// The content type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// Whether pages show it as an image.
    pub fn is_image(self) -> bool {
        matches!(self, FileKind::Jpeg | FileKind::Png)
    }
}

/// Largest attachment, in bytes (SPEC appeals: ≤ 20 MB).
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// Why a file is refused, in words for the clerk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// An extension outside the list.
    #[error("只能上传 PDF、JPG、PNG、DOCX、XLSX 文件")]
    Type,
    /// The content is not what the name says.
    #[error("文件内容与扩展名不符（“{0}”不是有效的 {1} 文件）")]
    Content(String, &'static str),
    /// Nothing in it.
    #[error("文件是空的")]
    Empty,
    /// Over the limit.
    #[error("文件超过 20 MB")]
    TooLarge,
    /// A name that is empty or too long.
    #[error("文件名应为 1 到 100 个字符")]
    Name,
}

/// The kind of a file called `name` whose content starts with `head` (at least the first 8
/// bytes when there are that many).
pub fn sniff(name: &str, head: &[u8]) -> Result<FileKind, UploadError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(UploadError::Name);
    }
    if head.is_empty() {
        return Err(UploadError::Empty);
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let (kind, magic, label): (FileKind, &[u8], &str) = match extension.as_str() {
        "pdf" => (FileKind::Pdf, b"%PDF", "PDF"),
        "jpg" | "jpeg" => (FileKind::Jpeg, &[0xFF, 0xD8, 0xFF], "JPG"),
        "png" => (FileKind::Png, &[0x89, b'P', b'N', b'G'], "PNG"),
        "docx" => (FileKind::Docx, b"PK\x03\x04", "DOCX"),
        "xlsx" => (FileKind::Xlsx, b"PK\x03\x04", "XLSX"),
        _ => return Err(UploadError::Type),
    };
    if head.starts_with(magic) {
        Ok(kind)
    } else {
        Err(UploadError::Content(name.to_owned(), label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_kind_and_the_refusals() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        let cases: [(&str, &[u8], Result<FileKind, UploadError>); 11] = [
            ("整改报告.pdf", b"%PDF-1.7", Ok(FileKind::Pdf)),
            ("现场.JPG", &[0xFF, 0xD8, 0xFF, 0xE0], Ok(FileKind::Jpeg)),
            ("现场.jpeg", &[0xFF, 0xD8, 0xFF, 0xE1], Ok(FileKind::Jpeg)),
            ("截图.png", &png, Ok(FileKind::Png)),
            ("说明.docx", b"PK\x03\x04rest", Ok(FileKind::Docx)),
            ("台账.xlsx", b"PK\x03\x04rest", Ok(FileKind::Xlsx)),
            ("程序.exe", b"MZ\x90\x00", Err(UploadError::Type)),
            ("无扩展名", b"%PDF", Err(UploadError::Type)),
            (
                "假的.pdf",
                b"MZ\x90\x00",
                Err(UploadError::Content("假的.pdf".into(), "PDF")),
            ),
            ("空.pdf", b"", Err(UploadError::Empty)),
            ("", b"%PDF", Err(UploadError::Name)),
        ];
        for (name, head, expected) in cases {
            assert_eq!(sniff(name, head), expected, "{name}");
        }
        assert!(FileKind::Png.is_image() && !FileKind::Pdf.is_image());
    }
}
