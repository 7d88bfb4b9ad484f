package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
)

// bufSize is the size of a Reader's buffer.
const bufSize = 64 << 10

// sniffLen is how many bytes at the start of an input are examined for
// the encoding.
const sniffLen = 512

// Reader is a buffered reader of one input that enforces its [Limits] and
// the encoding checks (see the package documentation). Read through its
// bufio.Reader (pass it to encoding/csv or encoding/json as it is: both
// use it without buffering again). A problem is returned as an [*Error]
// by the read that meets it, once the bytes before it have been read, and
// Err returns it from then on, even where a parser built on the Reader
// reported something else (say, a bare quote in the partial line before
// the limit).
type Reader struct {
	*bufio.Reader
	g *guard
}

// NewReader returns a Reader of r; name is used in errors. Zero fields of
// lim are [Defaults]. When r is already a *Reader or a *File it is
// returned as it is, with its own limits, so that a reader of files can
// open them with [Open] and hand them to a reader of io.Readers.
func NewReader(r io.Reader, name string, lim Limits) *Reader {
	switch r := r.(type) {
	case *Reader:
		return r
	case *File:
		return r.Reader
	}
	lim = lim.Or(Defaults)
	g := &guard{r: r, name: name, maxLine: math.MaxInt64, maxFile: math.MaxInt64, line: 1}
	if lim.MaxLineBytes > 0 {
		g.maxLine = int64(lim.MaxLineBytes)
	}
	if lim.MaxFileBytes > 0 {
		g.maxFile = lim.MaxFileBytes
	}
	return &Reader{Reader: bufio.NewReaderSize(g, bufSize), g: g}
}

// Err returns the limit or encoding error met so far, nil if none.
func (r *Reader) Err() error {
	if r.g.err == nil {
		return nil
	}
	return r.g.err
}

// Name returns the input's name, as given to NewReader or Open.
func (r *Reader) Name() string { return r.g.name }

// ReadLine returns the next line without its line ending ("\n" or
// "\r\n"); the slice is valid until the next read. At the end of the
// input it returns io.EOF (a last line without a line ending is returned
// first, with a nil error). The line is at most the line limit long.
func (r *Reader) ReadLine() ([]byte, error) {
	b, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer: collect it (the guard stops it
		// at the line limit).
		long := append([]byte(nil), b...)
		for err == bufio.ErrBufferFull {
			b, err = r.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	if err != nil && (err != io.EOF || len(b) == 0) {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r")), nil
}

// guard is the io.Reader under a Reader's buffer: it sees every byte of
// the input once, in order, so it knows the line and the count exactly.
type guard struct {
	r       io.Reader
	name    string
	maxLine int64
	maxFile int64

	n       int64 // bytes read
	line    int64 // current line, from 1
	lineLen int64 // bytes of the current line so far
	sniffed bool
	err     *Error
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	var n int
	var err error
	if !g.sniffed {
		g.sniffed = true
		if n, err = g.first(p); g.err != nil {
			return 0, g.err
		}
	} else {
		n, err = g.r.Read(p)
	}
	if k := g.count(p[:n]); g.err != nil {
		return k, g.err
	}
	return n, err
}

// first reads the start of the input into p, checks its encoding and
// drops a UTF-8 byte order mark.
func (g *guard) first(p []byte) (int, error) {
	want := min(sniffLen, len(p))
	n, err := io.ReadAtLeast(g.r, p[:len(p)], want)
	if err == io.ErrUnexpectedEOF {
		err = nil
	}
	if e := sniff(p[:n]); e != nil {
		g.err = &Error{File: g.name, Line: 1, Err: e}
		return 0, nil
	}
	if bytes.HasPrefix(p[:n], []byte("\xef\xbb\xbf")) {
		n = copy(p, p[3:n])
	}
	if n == 0 && err == nil {
		return g.r.Read(p)
	}
	return n, err
}

// count advances the counters over b and returns how many bytes of b may
// be passed on: all of them, or those before the first byte over a
// limit (then g.err is set).
func (g *guard) count(b []byte) int {
	if g.n+int64(len(b)) > g.maxFile {
		k := g.count(b[:g.maxFile-g.n])
		if g.err == nil {
			g.err = fileTooLarge(g.name, int(g.line), 0, g.maxFile)
		}
		return k
	}
	start := 0
	for start <= len(b) {
		i := bytes.IndexByte(b[start:], '\n')
		seg := len(b) - start
		if i >= 0 {
			seg = i
		}
		if g.lineLen+int64(seg) > g.maxLine {
			k := start + int(g.maxLine-g.lineLen)
			g.n += int64(k)
			g.err = lineTooLong(g.name, int(g.line), int(g.maxLine))
			return k
		}
		if i < 0 {
			g.lineLen += int64(seg)
			break
		}
		g.line++
		g.lineLen = 0
		start += i + 1
	}
	g.n += int64(len(b))
	return len(b)
}

// sniff returns the encoding problem of an input starting with b, nil if
// none: UTF-16 (a byte order mark, or NUL bytes in at least a quarter of
// the positions, nine in ten of them of one parity, as ASCII text in
// UTF-16 has) or binary data (NUL bytes in a quarter of the positions or
// more otherwise).
func sniff(b []byte) error {
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF}) {
		return utf16Error()
	}
	var nul [2]int
	for i, c := range b {
		if c == 0 {
			nul[i%2]++
		}
	}
	all := nul[0] + nul[1]
	switch {
	case all == 0 || 4*all < len(b):
		return nil
	case 10*max(nul[0], nul[1]) >= 9*all && all < len(b):
		return utf16Error()
	}
	return fmt.Errorf("%w: NUL bytes in %d of the first %d bytes; want UTF-8 text", ErrBinary, all, len(b))
}

func utf16Error() error {
	return fmt.Errorf("%w; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)", ErrUTF16)
}

// File is a file opened by [Open].
type File struct {
	*Reader
	f    *os.File
	zr   *gzip.Reader
	size int64
}

// Size returns the file's size on disk when it is a regular file, and -1
// otherwise (a pipe, a device).
func (f *File) Size() int64 { return f.size }

// Close closes the file.
func (f *File) Close() error {
	var err error
	if f.zr != nil {
		err = f.zr.Close()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens the file at path for reading through a [Reader] with the
// limits lim (zero fields: [Defaults]), decompressing it when it is gzip
// (recognised by its magic bytes, whatever the name); name is used in
// errors. A regular file larger than the file limit is refused before
// anything is read.
func Open(path, name string, lim Limits) (*File, error) {
	lim = lim.Or(Defaults)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	out := &File{f: f, size: -1}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		out.size = st.Size()
		if lim.MaxFileBytes > 0 && out.size > lim.MaxFileBytes {
			f.Close()
			return nil, fileTooLarge(name, 0, out.size, lim.MaxFileBytes)
		}
	}
	var src io.Reader = f
	br := bufio.NewReaderSize(f, 512)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if out.zr, err = gzip.NewReader(br); err != nil {
			f.Close()
			return nil, &Error{File: name, Err: err}
		}
		src = out.zr
	} else {
		src = br
	}
	out.Reader = NewReader(src, name, lim)
	return out, nil
}
