/**
 * The characters Go does not yet know. Helm drops what Go's unicode.IsPrint
 * says is not printable (Metadata.Validate's sanitizeString), with the tables
 * of the Go it was built with: Unicode 15.0.0 for Go 1.21 to 1.25, so Helm 3
 * and 4 alike. Node's ICU is newer (Unicode 17.0 in Node 20.20), so a
 * letter or symbol assigned since (a CJK Extension I ideograph, the newest
 * emoji) is printable to \p{L}… but not to Helm, which then writes another
 * Chart.yaml and signs another .prov than we would.
 *
 * These are the code points in categories L, M, N, P or S in Unicode 17.0
 * and unassigned in 15.0.0, from the @unicode/unicode-15.0.0 data compared
 * with Node 20.20's \p{…} classes (no character left those categories in
 * between). A Node with older Unicode data has them unassigned: no harm.
 */
export const ASSIGNED_AFTER_GO_UNICODE = new RegExp(
  '[' +
    '\u{88F}\u{897}\u{C5C}\u{CDC}\u{1ACF}-\u{1ADD}\u{1AE0}-\u{1AEB}\u{1B4E}-\u{1B4F}\u{1B7F}' +
    '\u{1C89}-\u{1C8A}\u{20C1}\u{2427}-\u{2429}\u{2B96}\u{2FFC}-\u{2FFF}\u{31E4}-\u{31E5}\u{31EF}' +
    '\u{A7CB}-\u{A7CF}\u{A7D2}\u{A7D4}\u{A7DA}-\u{A7DC}\u{A7F1}\u{FBC3}-\u{FBD2}\u{FD90}-\u{FD91}' +
    '\u{FDC8}-\u{FDCE}\u{105C0}-\u{105F3}\u{10940}-\u{10959}\u{10D40}-\u{10D65}\u{10D69}-\u{10D85}' +
    '\u{10D8E}-\u{10D8F}\u{10EC2}-\u{10EC7}\u{10ED0}-\u{10ED8}\u{10EFA}-\u{10EFC}\u{11380}-\u{11389}' +
    '\u{1138B}\u{1138E}\u{11390}-\u{113B5}\u{113B7}-\u{113C0}\u{113C2}\u{113C5}\u{113C7}-\u{113CA}' +
    '\u{113CC}-\u{113D5}\u{113D7}-\u{113D8}\u{113E1}-\u{113E2}\u{116D0}-\u{116E3}\u{11B60}-\u{11B67}' +
    '\u{11BC0}-\u{11BE1}\u{11BF0}-\u{11BF9}\u{11DB0}-\u{11DDB}\u{11DE0}-\u{11DE9}\u{11F5A}' +
    '\u{13460}-\u{143FA}\u{16100}-\u{16139}\u{16D40}-\u{16D79}\u{16EA0}-\u{16EB8}\u{16EBB}-\u{16ED3}' +
    '\u{16FF2}-\u{16FF6}\u{187F8}-\u{187FF}\u{18CFF}\u{18D09}-\u{18D1E}\u{18D80}-\u{18DF2}' +
    '\u{1CC00}-\u{1CCFC}\u{1CD00}-\u{1CEB3}\u{1CEBA}-\u{1CED0}\u{1CEE0}-\u{1CEF0}\u{1E5D0}-\u{1E5FA}' +
    '\u{1E5FF}\u{1E6C0}-\u{1E6DE}\u{1E6E0}-\u{1E6F5}\u{1E6FE}-\u{1E6FF}\u{1F6D8}\u{1F777}-\u{1F77A}' +
    '\u{1F8B2}-\u{1F8BB}\u{1F8C0}-\u{1F8C1}\u{1F8D0}-\u{1F8D8}\u{1FA54}-\u{1FA57}\u{1FA89}-\u{1FA8A}' +
    '\u{1FA8E}-\u{1FA8F}\u{1FABE}\u{1FAC6}\u{1FAC8}\u{1FACD}\u{1FADC}\u{1FADF}\u{1FAE9}-\u{1FAEA}' +
    '\u{1FAEF}\u{1FBCB}-\u{1FBEF}\u{1FBFA}\u{2B73A}-\u{2B73F}\u{2CEA2}-\u{2CEAD}\u{2EBF0}-\u{2EE5D}' +
    '\u{323B0}-\u{33479}' +
    ']',
  'u',
);
