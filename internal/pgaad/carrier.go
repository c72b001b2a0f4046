package pgaad

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A carrier is a connection of a pool that sends segments (combine.go) and
// reads their answers at the same time: senders write a segment's messages
// to the connection as soon as it arrives, and one reader goroutine reads
// the server's answers in the order the segments were sent, handing each
// writer its own. pgconn reads and writes from one goroutine at a time and
// waits for a pipeline's answers before sending more, so the carrier uses
// the connection's net.Conn directly, after pgconn.SyncConn (nothing
// buffered, no background read), and gives it back to the pool as pgconn
// left it: idle, between two ReadyForQuery messages, having read no byte
// past the last one it needed (each message is read by its length).
//
// What is not kept while a carrier holds the connection: the ParameterStatus
// and notice messages the server sends meanwhile are read and dropped
// (pgconn would have recorded a changed parameter, e.g. in_hot_standby,
// which the read-replica check reads; a connection whose server turns
// into a standby is ended by it anyway).
type carrier struct {
	pool *pgxpool.Pool
	pc   *pgxpool.Conn
	nc   net.Conn
	// typeMap guards the connection's pgtype.Map, which encoding (senders)
	// and decoding (the reader) both use and which is not safe for
	// concurrent use.
	typeMap sync.Mutex
	// Guarded by combiner.mu: the segments sent and not yet answered, in
	// the order they were sent, how many it took in all, and whether it
	// accepts more.
	inflight  []*segment
	taken     int
	accepting bool
	tickets   uint64 // the next write's place in the order (writeInTurn)
	// wmu guards turn, the place of the write that may go now.
	wmu   sync.Mutex
	wturn *sync.Cond
	turn  uint64
	// conn guards the connection's end: closed by abandon, or released
	// to the pool by the reader (after which it is no longer ours to close).
	conn     sync.Mutex
	closed   bool
	released bool
}

func newCarrier(pool *pgxpool.Pool, pc *pgxpool.Conn) *carrier {
	cr := &carrier{pool: pool, pc: pc, nc: pc.Conn().PgConn().Conn(), accepting: true}
	cr.wturn = sync.NewCond(&cr.wmu)
	return cr
}

// add encodes s's statements, then a Sync, and puts s in flight (cb.mu
// held): the bytes go to the wire by the write it returns, which the
// caller runs once it has let go of cb.mu. A segment whose arguments pgx
// cannot encode is finished at once, and sends nothing.
func (cr *carrier) add(s *segment) []byte {
	s.carrier = cr
	conn := cr.pc.Conn()
	cr.typeMap.Lock()
	steps := s.build(conn)
	msgs, err := encodeSegment(conn.TypeMap(), steps)
	cr.typeMap.Unlock()
	if err != nil {
		s.finish(0, err, false)
		return nil
	}
	s.steps = steps
	cr.inflight = append(cr.inflight, s)
	if cr.taken++; cr.taken >= maxSegments {
		cr.accepting = false // finishes what it took, then gives the connection back
	}
	return msgs
}

// writeInTurn returns a function that writes msgs to the connection in the
// order of the calls to writeInTurn, which come under cb.mu in the order
// of inflight; the writing itself happens outside cb.mu. So a write that
// waits for the server to read (when the sockets' buffers are full) never
// holds up the reader, which takes cb.mu between segments and must drain
// the server's answers for the server to read on. A failed write may have
// sent part of msgs: the connection is closed, and the reader reports
// every segment in flight as lost.
func (cr *carrier) writeInTurn(msgs []byte) func() {
	ticket := cr.tickets
	cr.tickets++
	return func() {
		cr.wmu.Lock()
		for cr.turn != ticket {
			cr.wturn.Wait()
		}
		var err error
		if len(msgs) > 0 {
			_, err = cr.nc.Write(msgs)
		}
		cr.turn++
		cr.wturn.Broadcast()
		cr.wmu.Unlock()
		if err != nil {
			cr.abandon()
		}
	}
}

// encodeSegment is what pgconn's Pipeline.SendQueryParams sends for each
// step (the unnamed statement; its arguments encoded as pgx's
// QueryExecModeExec encodes them, text with the types from the SQL's
// casts; rows in binary), then a Sync.
func encodeSegment(m *pgtype.Map, steps []pipelineStep) ([]byte, error) {
	var buf []byte
	var err error
	for _, st := range steps {
		var eqb pgx.ExtendedQueryBuilder
		if err = eqb.Build(m, nil, st.args); err != nil {
			return nil, err
		}
		var result []int16
		if st.row != nil {
			result = []int16{pgx.BinaryFormatCode} // every column
		}
		for _, msg := range []pgproto3.FrontendMessage{
			&pgproto3.Parse{Query: st.sql},
			&pgproto3.Bind{ParameterFormatCodes: eqb.ParamFormats, Parameters: eqb.ParamValues, ResultFormatCodes: result},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
		} {
			if buf, err = msg.Encode(buf); err != nil {
				return nil, err
			}
		}
	}
	return (&pgproto3.Sync{}).Encode(buf)
}

// abandon closes the connection: every segment in flight is then reported
// lost (its outcome unknown), and the pool drops the connection.
func (cr *carrier) abandon() {
	cr.conn.Lock()
	defer cr.conn.Unlock()
	if cr.closed || cr.released {
		return
	}
	cr.closed = true
	_ = cr.nc.Close() // wakes the reader at once
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = cr.pc.Conn().Close(ctx) // marks it closed, for the pool to drop
}

// release gives the connection back to the pool (the reader, once).
func (cr *carrier) release() {
	cr.conn.Lock()
	cr.released = true
	cr.conn.Unlock()
	cr.pc.Release()
}

// read answers the segments in flight, in order, until none is left; then
// it gives the connection back to the pool. When the connection fails, the
// segment being read and every one after it are lost.
func (cr *carrier) read(cb *combiner) {
	for {
		cb.mu.Lock()
		if len(cr.inflight) == 0 {
			cb.remove(cr)
			cb.mu.Unlock()
			cr.release()
			return
		}
		s := cr.inflight[0]
		cb.mu.Unlock()

		done, stepErr, lost := cr.readSegment(s.steps)
		cb.mu.Lock()
		if lost == nil {
			cr.inflight = cr.inflight[1:]
			cb.mu.Unlock()
			s.finish(done, stepErr, false)
			continue
		}
		cb.remove(cr)
		rest := cr.inflight[1:]
		cr.inflight = nil
		cb.mu.Unlock()
		cr.abandon()
		if stepErr == nil {
			stepErr = lost
		}
		s.finish(done, stepErr, true)
		for _, x := range rest {
			x.finish(0, lost, true)
		}
		cr.release()
		return
	}
}

// readSegment reads one segment's answers up to its ReadyForQuery: how many
// steps succeeded and the segment's first error (the server skipped the
// rest and rolled the segment back), or, as lost, an error that ended the
// connection (the outcome of this segment and those after it is unknown).
func (cr *carrier) readSegment(steps []pipelineStep) (done int, stepErr, lost error) {
	var fields []pgconn.FieldDescription
	var row [][]byte
	rows := 0
	for {
		typ, body, err := readMessage(cr.nc)
		if err != nil {
			return done, stepErr, fmt.Errorf("pgaad: the connection was lost: %w", err)
		}
		switch typ {
		case 'T':
			var m pgproto3.RowDescription
			if err := m.Decode(body); err != nil {
				return done, stepErr, err
			}
			fields = fieldDescriptions(m.Fields)
		case 'D':
			if rows++; rows == 1 {
				var m pgproto3.DataRow
				if err := m.Decode(body); err != nil {
					return done, stepErr, err
				}
				row = m.Values // body is this message's own buffer
			}
		case 'C', 'I': // CommandComplete, EmptyQueryResponse
			if stepErr == nil && done < len(steps) {
				var readErr error
				if read := steps[done].row; read != nil {
					cr.typeMap.Lock()
					readErr = read(valuesRow{m: cr.pc.Conn().TypeMap(), fields: fields, values: row, ok: rows > 0})
					cr.typeMap.Unlock()
				}
				if readErr != nil {
					stepErr = readErr // the server goes on: read and drop the rest
				} else {
					done++
				}
			}
			fields, row, rows = nil, nil, 0
		case 'E':
			var m pgproto3.ErrorResponse
			if err := m.Decode(body); err != nil {
				return done, stepErr, err
			}
			pgErr := pgconn.ErrorResponseToPgError(&m)
			if stepErr == nil {
				stepErr = pgErr
			}
			if pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC" { // the server ends the session
				return done, stepErr, pgErr
			}
		case 'Z': // ReadyForQuery: the segment's Sync
			if stepErr == nil && done < len(steps) {
				stepErr = fmt.Errorf("pgaad: the server answered %d of %d statements", done, len(steps))
			}
			return done, stepErr, nil
		case '1', '2', 'n', 'N', 'S', 'A':
			// ParseComplete, BindComplete, NoData; notices, parameter
			// changes and notifications, which may come at any time.
		default:
			return done, stepErr, fmt.Errorf("pgaad: unexpected message %q in a pipeline", typ)
		}
	}
}

// readMessage reads one backend message by its length, and nothing past it.
func readMessage(r io.Reader) (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(head[1:])) - 4
	if n < 0 || n > 1<<30 {
		return 0, nil, fmt.Errorf("pgaad: a message of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return head[0], body, nil
}

// fieldDescriptions is pgconn's view of a RowDescription, as pgx.ScanRow
// takes it.
func fieldDescriptions(in []pgproto3.FieldDescription) []pgconn.FieldDescription {
	out := make([]pgconn.FieldDescription, len(in))
	for i, f := range in {
		out[i] = pgconn.FieldDescription{
			Name: string(f.Name), TableOID: f.TableOID, TableAttributeNumber: f.TableAttributeNumber,
			DataTypeOID: f.DataTypeOID, DataTypeSize: f.DataTypeSize, TypeModifier: f.TypeModifier, Format: f.Format,
		}
	}
	return out
}

// valuesRow is a statement's first row as pgx.Row (ok: there was one).
type valuesRow struct {
	m      *pgtype.Map
	fields []pgconn.FieldDescription
	values [][]byte
	ok     bool
}

func (r valuesRow) Scan(dest ...any) error {
	if !r.ok {
		return pgx.ErrNoRows
	}
	return pgx.ScanRow(r.m, r.fields, r.values, dest...)
}
