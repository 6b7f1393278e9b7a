"""What a ZIP archive really is, by the names inside it."""
import zipfile


def refine(path):
    """docx, jar, apk or plain zip (a damaged archive stays zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return "zip"
    if "AndroidManifest.xml" in names and "classes.dex" in names:
        return "apk"
    if "word/document.xml" in names:
        return "docx"
    if "META-INF/MANIFEST.MF" in names:
        return "jar"
    return "zip"
