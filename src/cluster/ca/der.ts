// Just enough DER reading to lift a certificate's subject Name bytes (TLSInfo.CertIssuerSubject is base64 of the
// CA's subject as DER, which node:crypto's X509Certificate does not expose).

interface Tlv { tag: number; start: number; end: number; contentStart: number }

function readTlv(der: Buffer, offset: number): Tlv {
  const tag = der[offset]!;
  let len = der[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i]!;
    p += n;
  }
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The DER of the subject Name of an X.509 certificate given as DER. */
export function certificateSubjectDer(certDer: Buffer): Buffer {
  const cert = readTlv(certDer, 0);
  const tbs = readTlv(certDer, cert.contentStart);
  let p = tbs.contentStart;
  const first = readTlv(certDer, p);
  if (first.tag === 0xa0) p = first.end; // [0] version
  // serial, signature algorithm, issuer, validity, then subject
  for (let i = 0; i < 4; i++) p = readTlv(certDer, p).end;
  const subject = readTlv(certDer, p);
  return certDer.subarray(subject.start, subject.end);
}
