import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TextDecoder } from 'node:util';
import { decodeDicomString, getSpecificCharacterSet, normalizeCharsetTerm, splitDicomValues, SUPPORTED_CHARACTER_SET_TERMS } from './charset.ts';

const ESC = 0x1b;
/** Bytes from a mix of ASCII strings and byte arrays. */
function bytes(...parts: Array<string | number[]>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

describe('default repertoire and single-byte character sets', () => {
  test('no Specific Character Set decodes ASCII, and stray high bytes as ISO 8859-1', () => {
    assert.equal(decodeDicomString(bytes('Doe^John'), null, 'PN'), 'Doe^John');
    assert.equal(decodeDicomString(bytes('Jos', [0xe9]), undefined, 'PN'), 'José');
    assert.equal(getSpecificCharacterSet('').codeExtensions, false);
  });

  test('ISO_IR 100 (Latin-1)', () => {
    assert.equal(decodeDicomString(bytes('Buc^J', [0xe9], 'r', [0xf4], 'me'), 'ISO_IR 100', 'PN'), 'Buc^Jérôme');
  });

  test('ISO_IR 101 (Latin-2), 144 (Cyrillic), 126 (Greek), 127 (Arabic), 138 (Hebrew)', () => {
    assert.equal(decodeDicomString(bytes('Wa', [0xb3, 0xea], 'sa'), 'ISO_IR 101', 'PN'), 'Wałęsa');
    assert.equal(decodeDicomString(bytes([0xbb, 0xee, 0xda]), 'ISO_IR 144', 'PN'), 'Люк');
    assert.equal(decodeDicomString(bytes([0xc4, 0xe9, 0xef]), 'ISO_IR 126', 'PN'), 'Διο');
    assert.equal(decodeDicomString(bytes([0xe2, 0xc8, 0xc7]), 'ISO_IR 127', 'PN'), 'قبا');
    assert.equal(decodeDicomString(bytes([0xf9, 0xf8, 0xe5, 0xef]), 'ISO_IR 138', 'PN'), 'שרון');
  });

  // Independent check of every single-byte table against the WHATWG decoders. WHATWG maps the
  // ISO 8859-1/-9 and TIS-620 labels to the windows-125x/874 supersets, which agree from 0xA1 up.
  const whatwgLabel: Record<string, string> = {
    'ISO_IR 100': 'windows-1252', 'ISO_IR 101': 'iso-8859-2', 'ISO_IR 109': 'iso-8859-3', 'ISO_IR 110': 'iso-8859-4',
    'ISO_IR 144': 'iso-8859-5', 'ISO_IR 127': 'iso-8859-6', 'ISO_IR 126': 'iso-8859-7', 'ISO_IR 138': 'iso-8859-8',
    'ISO_IR 148': 'windows-1254', 'ISO_IR 203': 'iso-8859-15', 'ISO_IR 166': 'windows-874',
  };
  for (const [term, label] of Object.entries(whatwgLabel)) {
    test(`${term} upper half agrees with TextDecoder('${label}')`, () => {
      const upper = Uint8Array.from({ length: 0x5f }, (_, i) => 0xa1 + i);
      const ours = [...decodeDicomString(upper, term, 'LO')];
      const theirs = [...new TextDecoder(label).decode(upper)];
      assert.equal(ours.length, theirs.length);
      for (let i = 0; i < ours.length; i++) {
        const code = theirs[i]!.codePointAt(0)!;
        if (code === 0xfffd || (code >= 0xe000 && code <= 0xf8ff)) continue; // unassigned in ISO (windows-874 uses private use)
        assert.equal(ours[i], theirs[i], `byte 0x${(0xa1 + i).toString(16)}`);
      }
    });
  }

  test('ISO_IR 13: JIS X 0201 katakana in GR, Romaji in GL', () => {
    // Overline for 0x7E and yen for 0x5C in text, as DCMTK (iconv JIS_X0201) decodes them.
    assert.equal(decodeDicomString(bytes('A~B', [0xb1, 0xdf]), 'ISO_IR 13', 'LT'), 'A\u203eBｱﾟ');
    assert.equal(decodeDicomString(bytes('x\\y'), 'ISO_IR 13', 'LT'), 'x\u00a5y');
    // In multi-valued VRs 0x5C is the value delimiter and stays a backslash (DCMTK shows a yen sign).
    assert.equal(decodeDicomString(bytes('A\\B'), 'ISO_IR 13', 'LO'), 'A\\B');
  });

  test('unknown terms fall back to ISO 8859-1 and are reported, without throwing', () => {
    const cs = getSpecificCharacterSet('ISO_IR 999');
    assert.deepEqual(cs.unknownTerms, ['ISO_IR 999']);
    assert.equal(cs.decode(bytes('M', [0xfc], 'ller'), 'PN'), 'Müller');
    assert.deepEqual(getSpecificCharacterSet('ISO_IR 100').unknownTerms, []);
  });

  test('lenient spellings of defined terms', () => {
    assert.equal(normalizeCharsetTerm('ISO-IR 100'), 'ISO_IR 100');
    assert.equal(normalizeCharsetTerm('iso_ir192'), 'ISO_IR 192');
    assert.equal(normalizeCharsetTerm(' ISO 2022 IR 87 '), 'ISO 2022 IR 87');
    assert.equal(normalizeCharsetTerm('ISO_IR 6'), '');
    assert.equal(decodeDicomString(bytes([0xe4, 0xb8, 0xad]), 'iso-ir 192', 'PN'), '中');
    assert.deepEqual(getSpecificCharacterSet('ISO-IR 144').unknownTerms, []);
  });

  test('the list of supported terms covers every term of the brief', () => {
    for (const term of ['ISO_IR 100', 'ISO_IR 101', 'ISO_IR 109', 'ISO_IR 110', 'ISO_IR 144', 'ISO_IR 127', 'ISO_IR 126', 'ISO_IR 138', 'ISO_IR 148', 'ISO_IR 203', 'ISO_IR 13', 'ISO_IR 166', 'ISO_IR 192', 'GB18030', 'GBK', 'ISO 2022 IR 6', 'ISO 2022 IR 100', 'ISO 2022 IR 101', 'ISO 2022 IR 13', 'ISO 2022 IR 87', 'ISO 2022 IR 159', 'ISO 2022 IR 149', 'ISO 2022 IR 58', 'ISO 2022 IR 166']) {
      assert.ok(SUPPORTED_CHARACTER_SET_TERMS.includes(term), term);
    }
  });
});

describe('whole-string encodings', () => {
  test('ISO_IR 192 (UTF-8)', () => {
    assert.equal(decodeDicomString(Buffer.from('Wang^XiaoDong=王^小東=', 'utf8'), 'ISO_IR 192', 'PN'), 'Wang^XiaoDong=王^小東=');
  });

  test('GB18030 and GBK, including a trail byte 0x5C that must not split the value', () => {
    assert.equal(decodeDicomString(bytes('Wang^XiaoDong=', [0xcd, 0xf5], '^', [0xd0, 0xa1, 0xb6, 0xab], '='), 'GB18030', 'PN'), 'Wang^XiaoDong=王^小东=');
    const trail5c = bytes([0x81, 0x5c]);
    const expected = new TextDecoder('gbk').decode(trail5c);
    assert.equal(expected.length, 1);
    const decoded = decodeDicomString(bytes('a\\', [0x81, 0x5c], '\\b'), 'GBK', 'LO');
    assert.deepEqual(splitDicomValues(decoded, 'LO'), ['a', expected, 'b']);
    // Four-byte GB18030 sequence.
    assert.equal(decodeDicomString(bytes([0x81, 0x30, 0x81, 0x30]), 'GB18030', 'LO'), '\u0080');
  });

  test('a second value next to ISO_IR 192 is reported as ignored', () => {
    const cs = getSpecificCharacterSet(['ISO_IR 192', 'ISO_IR 100']);
    assert.deepEqual(cs.ignoredTerms, ['ISO_IR 100']);
    assert.equal(cs.decode(Buffer.from('é', 'utf8'), 'PN'), 'é');
  });
});

describe('ISO 2022 code extensions', () => {
  test('Japanese: JIS X 0208 designated into G0 per component group (chrH31 form)', () => {
    const value = bytes(
      'Yamada^Tarou=', [ESC], '$B;3ED', [ESC], '(B^', [ESC], '$BB@O:', [ESC], '(B=',
      [ESC], '$B$d$^$@', [ESC], '(B^', [ESC], '$B$?$m$&', [ESC], '(B',
    );
    assert.equal(decodeDicomString(value, '\\ISO 2022 IR 87', 'PN'), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  test('Japanese: half-width katakana (ISO 2022 IR 13) with JIS X 0208 (chrH32 form)', () => {
    const value = bytes(
      [0xd4, 0xcf, 0xc0, 0xde], '^', [0xc0, 0xdb, 0xb3], '=', [ESC], '$B;3ED', [ESC], '(J^', [ESC], '$BB@O:', [ESC], '(J=',
      [ESC], '$B$d$^$@', [ESC], '(J^', [ESC], '$B$?$m$&', [ESC], '(J',
    );
    assert.equal(decodeDicomString(value, 'ISO 2022 IR 13\\ISO 2022 IR 87', 'PN'), 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  test('JIS X 0212 (ISO 2022 IR 159)', () => {
    assert.equal(decodeDicomString(bytes([ESC], '$(D0!', [ESC], '(B'), '\\ISO 2022 IR 159', 'LO'), '丂');
  });

  test('Korean: KS X 1001 in G1, re-designated after each delimiter (chrI2 form)', () => {
    const value = bytes(
      'Hong^Gildong=', [ESC], '$)C', [0xfb, 0xf3], '^', [ESC], '$)C', [0xd1, 0xce, 0xd4, 0xd7], '=',
      [ESC], '$)C', [0xc8, 0xab], '^', [ESC], '$)C', [0xb1, 0xe6, 0xb5, 0xbf],
    );
    assert.equal(decodeDicomString(value, '\\ISO 2022 IR 149', 'PN'), 'Hong^Gildong=洪^吉洞=홍^길동');
  });

  test('Korean without escape sequences when ISO 2022 IR 149 is value 1', () => {
    assert.equal(decodeDicomString(bytes([0xc8, 0xab]), 'ISO 2022 IR 149', 'PN'), '홍');
  });

  test('Chinese: GB 2312 (ISO 2022 IR 58)', () => {
    assert.equal(decodeDicomString(bytes('Wang=', [ESC], '$)A', [0xcd, 0xf5]), '\\ISO 2022 IR 58', 'PN'), 'Wang=王');
  });

  test('PN delimiters ^ and = reset to the initial sets; in LO they are ordinary characters', () => {
    const value = bytes([ESC], '-L', [0xbb], '^', [0xbb]);
    // After '^' in PN the G1 set is the initial one (none), so 0xBB falls back to ISO 8859-1.
    assert.equal(decodeDicomString(value, '\\ISO 2022 IR 144', 'PN'), 'Л^»');
    assert.equal(decodeDicomString(value, '\\ISO 2022 IR 144', 'LO'), 'Л^Л');
  });

  test('backslash resets in multi-valued VRs but is text in ST/LT/UT; CR/LF reset everywhere', () => {
    const value = bytes([ESC], '-L', [0xbb], '\\', [0xbb]);
    assert.equal(decodeDicomString(value, '\\ISO 2022 IR 144', 'LO'), 'Л\\»');
    assert.equal(decodeDicomString(value, '\\ISO 2022 IR 144', 'LT'), 'Л\\Л');
    assert.equal(decodeDicomString(bytes([ESC], '-L', [0xbb], '\r\n', [0xbb]), '\\ISO 2022 IR 144', 'LT'), 'Л\r\n»');
    // With ISO 2022 IR 100 as value 1, the reset returns to Latin-1.
    assert.equal(decodeDicomString(bytes([ESC], '-L', [0xbb], '^', [0xbb]), 'ISO 2022 IR 100\\ISO 2022 IR 144', 'PN'), 'Л^»');
    assert.equal(decodeDicomString(bytes([ESC], '-L', [0xbb], '^', [0xe9]), 'ISO 2022 IR 100\\ISO 2022 IR 144', 'PN'), 'Л^é');
  });

  test('delimiter bytes inside a JIS X 0208 run are halves of characters, not delimiters', () => {
    const expected = new TextDecoder('euc-jp').decode(Uint8Array.of(0xdc, 0xa1)); // JIS 0x5C21
    assert.equal(expected.length, 1);
    const value = bytes('a\\', [ESC], '$B\\!', [ESC], '(B\\b');
    assert.deepEqual(splitDicomValues(decodeDicomString(value, '\\ISO 2022 IR 87', 'LO'), 'LO'), ['a', expected, 'b']);
  });

  test('an unknown escape sequence becomes U+FFFD and decoding goes on', () => {
    assert.equal(decodeDicomString(bytes('A', [ESC], 'zB'), '\\ISO 2022 IR 87', 'LO'), 'A\uFFFDzB');
  });

  test('escape sequences are not interpreted without code extensions', () => {
    assert.equal(decodeDicomString(bytes([ESC], '-L', [0xbb]), 'ISO_IR 100', 'LO'), '\u001b-L»');
  });
});

describe('parsing (0008,0005)', () => {
  test('raw string and list forms give the same cached object', () => {
    assert.equal(getSpecificCharacterSet('\\ISO 2022 IR 87 '), getSpecificCharacterSet(['', 'ISO 2022 IR 87']));
    assert.deepEqual(getSpecificCharacterSet('\\ISO 2022 IR 87').values, ['', 'ISO 2022 IR 87']);
    assert.equal(getSpecificCharacterSet('\\ISO 2022 IR 87').codeExtensions, true);
  });

  test('splitDicomValues keeps ST/LT/UT whole', () => {
    assert.deepEqual(splitDicomValues('a\\b', 'LO'), ['a', 'b']);
    assert.deepEqual(splitDicomValues('a\\b', 'LT'), ['a\\b']);
  });
});
