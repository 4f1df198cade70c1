"""No blank dossiers: WeasyPrint draws empty boxes when no CJK font is installed, so check first."""

import functools
import shutil
import subprocess

from django.core import checks

CJK_PACKAGE = "fonts-noto-cjk"
# The families the dossier stylesheet asks for, best first; any font that covers Chinese will do.
SERIF_FAMILIES = ("Noto Serif CJK SC", "Source Han Serif SC", "FangSong", "SimSun", "AR PL UMing CN")
SANS_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "WenQuanYi Zen Hei", "Droid Sans Fallback")


class MissingCJKFont(RuntimeError):
    """No installed font covers Chinese: a dossier would print empty boxes."""

    def __init__(self):
        super().__init__(
            f"未安装中文字体，案卷无法生成：请安装 {CJK_PACKAGE}（sudo apt-get install {CJK_PACKAGE}）。"
            f" No CJK font is installed: install {CJK_PACKAGE} (sudo apt-get install {CJK_PACKAGE})."
        )


@functools.cache
def chinese_families():
    """Return the installed font families that cover Simplified Chinese, as fontconfig sees them."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return _families_by_rendering()
    listed = subprocess.run([fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False).stdout
    return tuple(sorted({name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}))


def _families_by_rendering():
    # Without fc-list, ask WeasyPrint itself: a font that draws 汉 keeps it in its ToUnicode map.
    import io

    import pikepdf
    from weasyprint import HTML

    pdf = pikepdf.open(io.BytesIO(HTML(string="<p style='font-family: serif'>汉</p>").write_pdf()))
    families = []
    for font in pdf.pages[0].Resources.get("/Font", {}).values():
        if "/ToUnicode" in font and b"6C49" in font.ToUnicode.read_bytes().upper():
            families.append(str(font.BaseFont).split("+")[-1])
    return tuple(families)


def require_cjk_font():
    """Raise MissingCJKFont unless a Chinese font is installed."""
    if not chinese_families():
        raise MissingCJKFont()


@checks.register("juece")
def check_cjk_font(app_configs=None, **kwargs):
    """System check: refuse to run without a font for Chinese dossiers."""
    if chinese_families():
        return []
    return [
        checks.Error(
            "未安装中文字体：PDF 案卷会印成空白方框。 No CJK font is installed: PDF dossiers would print empty boxes.",
            hint=f"sudo apt-get install {CJK_PACKAGE}",
            id="juece.E001",
        )
    ]
