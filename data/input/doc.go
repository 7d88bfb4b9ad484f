// Package input bounds what recur's data readers read, so that no file,
// however large or strange, costs more than a known amount of memory and
// time before it is refused.
//
// Every reader of user data (series CSV, labelled text, sentence pairs,
// language-model corpora, piano-roll JSON, YAML configs) reads through
// [NewReader] or [Open], which enforce [Limits]:
//
//   - a maximum line length, so that a file with no line ending (a
//     100 MB one-line CSV, /dev/zero) is refused after reading about the
//     limit, not after reading everything;
//   - a maximum file size, checked before reading for a regular file and
//     while reading for anything else (pipes, devices, gzip streams);
//   - the encoding: a UTF-8 byte order mark is skipped, UTF-16 (a byte
//     order mark FF FE or FE FF, or NUL bytes in every other position) is
//     named with the command that converts it, and data made mostly of
//     NUL bytes is refused as binary.
//
// Errors are [*Error] values naming the file and line, and wrapping one of
// [ErrLineTooLong], [ErrFileTooLarge], [ErrUTF16] or [ErrBinary].
//
// [Quote] and [QuoteList] quote user values in error messages, at most
// about 100 bytes of each, with the value's total length, so that a huge
// cell or header never makes a huge message.
package input
