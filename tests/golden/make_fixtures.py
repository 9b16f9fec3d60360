#!/usr/bin/env python3
"""Writes the golden inputs that cannot be typed in an editor.

Some cases under check/ hold bytes that are not plain UTF-8 text (a NUL byte,
Windows-1252, UTF-16) or are too big to write by hand (10,000 nested
parentheses). They are committed like every other case; this script is how
they were made, so they can be re-made or changed on purpose:

    python3 tests/golden/make_fixtures.py        # rewrite them
    python3 tests/golden/make_fixtures.py --check # exit 1 if one differs

After changing one, regenerate its .expected file (see README.md).
"""
import pathlib
import sys

CHECK = pathlib.Path(__file__).resolve().parent / "check"

CUSTOMER_TABLES = (
    "table fo.CustCustomerV3Entity {\n"
    "  CUSTOMERACCOUNT string(20) not null;\n"
    "  key (CUSTOMERACCOUNT);\n"
    "}\n"
    "\n"
    "table ce.account {\n"
    "  accountnumber string(20) not null;\n"
    "  key (accountnumber);\n"
    "}\n"
)


def fixtures():
    yield "fail_e0003_latin1_label.duet", (
        b"// Saved as Windows-1252 by an old editor: the label's e-acute is the single\n"
        b"// byte 0xE9, which is not UTF-8.\n"
        b'system fo "Finance and Operations";\n'
        b'system ce "Dataverse";\n'
        b"\n"
        b'table ce.account "Soci\xe9t\xe9s" {\n'
        b"  accountnumber string(20) not null;\n"
        b"  key (accountnumber);\n"
        b"}\n")

    # PowerShell's Out-File writes UTF-16 with a byte-order mark by default.
    text = "// Written by PowerShell's Out-File, which defaults to UTF-16.\nsystem fo;\nsystem ce;\n"
    yield "fail_e0003_utf16.duet", b"\xff\xfe" + text.encode("utf-16-le")

    yield "fail_e0004_nul_byte.duet", (
        b"// A NUL byte came along with a copy from a binary export.\n"
        b"system fo;\n"
        b"system ce;\n"
        b"\n"
        b"table fo.CustCustomerV3Entity {\n"
        b"  CUSTOMERACCOUNT string(20) not null;\x00\n"
        b"  key (CUSTOMERACCOUNT);\n"
        b"}\n")

    yield "fail_e0006_nested_parentheses.duet", (
        "// A generated filter with 10,000 nested parentheses: the front end must stop\n"
        "// at the nesting limit instead of overflowing its stack.\n"
        "system fo;\n"
        "system ce;\n"
        "\n" + CUSTOMER_TABLES + "\n"
        "map customers: fo.CustCustomerV3Entity -> ce.account {\n"
        "  filter fo: " + "(" * 10000 + 'CUSTOMERACCOUNT != ""' + ")" * 10000 + ";\n"
        "  CUSTOMERACCOUNT -> accountnumber;\n"
        "}\n").encode()

    yield "fail_e0006_not_chain.duet", (
        '// "not" repeated 2,000 times: no brackets, but the parser still recurses once\n'
        "// per operator, so the expression nesting limit applies.\n"
        "system fo;\n"
        "system ce;\n"
        "\n"
        "table fo.CustCustomerV3Entity {\n"
        "  CUSTOMERACCOUNT string(20) not null;\n"
        "  ONHOLD          bool;\n"
        "  key (CUSTOMERACCOUNT);\n"
        "}\n"
        "\n"
        "table ce.account {\n"
        "  accountnumber string(20) not null;\n"
        "  key (accountnumber);\n"
        "}\n"
        "\n"
        "map customers: fo.CustCustomerV3Entity -> ce.account {\n"
        "  filter fo: " + "not " * 2000 + "ONHOLD;\n"
        "  CUSTOMERACCOUNT -> accountnumber;\n"
        "}\n").encode()

    yield "fail_e0006_operator_chain.duet", (
        '// 1,100 terms joined by "+": the parser reads the chain as a loop, but the\n'
        "// syntax tree would be 1,100 levels deep, past the expression depth limit.\n"
        "system fo;\n"
        "system ce;\n"
        "\n"
        "table fo.InventOnhandEntity {\n"
        "  ITEMNUMBER string(20) not null;\n"
        "  QTY        int;\n"
        "  key (ITEMNUMBER);\n"
        "}\n"
        "\n"
        "table ce.msdyn_inventoryonhand {\n"
        "  msdyn_itemnumber string(20) not null;\n"
        "  msdyn_quantity   int;\n"
        "  key (msdyn_itemnumber);\n"
        "}\n"
        "\n"
        "map onhand: fo.InventOnhandEntity -> ce.msdyn_inventoryonhand {\n"
        "  ITEMNUMBER -> msdyn_itemnumber;\n"
        "  " + " + ".join(["QTY"] * 1100) + " -> msdyn_quantity;\n"
        "}\n").encode()

    # A UTF-8 file as Windows tools write it: byte-order mark, CRLF line ends,
    # tabs, and text that is not ASCII. It must check clean.
    yield "pass_bom_crlf_tabs.duet", ("\ufeff"
        "// Written on Windows: a UTF-8 byte-order mark, CRLF line ends and tabs.\n"
        'system fo "Finance and Operations";\n'
        'system ce "Dataverse — Ventes";\n'
        "\n"
        'table fo.CustCustomerV3Entity "Clients (société)" {\n'
        "\tCUSTOMERACCOUNT\tstring(20) not null;\n"
        "\tORGANIZATIONNAME\tstring(100);\n"
        "\tkey (CUSTOMERACCOUNT);\n"
        "}\n"
        "\n"
        'table ce.account "Comptes" {\n'
        "\taccountnumber\tstring(20) not null;\n"
        "\tname\tstring(160);\n"
        "\tkey (accountnumber);\n"
        "}\n"
        "\n"
        "map customers: fo.CustCustomerV3Entity -> ce.account {\n"
        "\tCUSTOMERACCOUNT\t-> accountnumber;\n"
        "\tORGANIZATIONNAME\t-> name;\n"
        "}\n"
        "\n"
        'test customers "Zoë’s café" {\n'
        '\tgiven fo { CUSTOMERACCOUNT = "C-1", ORGANIZATIONNAME = "Café Zoë — 東京" }\n'
        '\texpect ce { accountnumber = "C-1", name = "Café Zoë — 東京" }\n'
        "}\n").replace("\n", "\r\n").encode()

    # The same file with a typo after the non-ASCII text: carets count
    # characters, and a tab before the error stays a tab under it.
    yield "fail_e0202_caret_after_tabs_and_unicode.duet", (
        "// duetc: --no-unused-warnings\n"
        "// CRLF line ends, tabs and non-ASCII text before the error: the caret\n"
        "// must still sit under the misspelt name.\n"
        "system fo;\n"
        "system ce;\n"
        "\n"
        "table fo.CustCustomerV3Entity {\n"
        "\tCUSTOMERACCOUNT\tstring(20) not null;\n"
        "\tORGANIZATIONNAME\tstring(100);\n"
        "\tkey (CUSTOMERACCOUNT);\n"
        "}\n"
        "\n"
        "table ce.account {\n"
        "\taccountnumber\tstring(20) not null;\n"
        "\tname\tstring(160);\n"
        "\tkey (accountnumber);\n"
        "}\n"
        "\n"
        'map customers "Clients — société": fo.CustCustomerV3Entity -> ce.account {\n'
        "\tCUSTOMERACCOUNT\t-> accountnumber;\n"
        '\tconcat("Café ", ORGANISATIONNAME)\t-> name;\n'
        "}\n").replace("\n", "\r\n").encode()

    yield "warn_w0001_empty_file.duet", b"\n\n"


def main():
    check_only = "--check" in sys.argv[1:]
    stale = []
    for name, data in fixtures():
        path = CHECK / name
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(name)
        if not check_only:
            path.write_bytes(data)
    for name in stale:
        print(("differs: " if check_only else "wrote: ") + name)
    return 1 if check_only and stale else 0


if __name__ == "__main__":
    sys.exit(main())
