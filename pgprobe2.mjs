import pg from 'pg';
const url = 'postgres://postgres@127.0.0.1:5432/test';
const c = new pg.Client(url); await c.connect();
await c.query('drop schema if exists rp cascade; create schema rp; create table rp.events (position bigint primary key, stream text, seq bigint, id text, type text, data bytea, recorded_at bigint, metadata bytea, previous bigint)');
await c.query(`insert into rp.events select g, 'counter-c'||(g%10000), g/10000+1, gen_random_uuid()::text, 'Incremented', '\\x81a6616d6f756e7401'::bytea, 1796141649487, null, g-1 from generate_series(1,200000) g`);
const types = { getTypeParser: (oid, format) => oid === 20 ? (format === 'binary' ? (b) => Number(b.readBigInt64BE(0)) : Number) : (format === 'binary' && oid === 17 ? (b) => b : (format === 'binary' && oid === 25 ? (b) => b.toString('utf8') : pg.types.getTypeParser(oid, format))) };
for (const binary of [false, true]) {
  const cl = new pg.Client({ connectionString: url, types }); await cl.connect();
  let t = performance.now(), from = 1, n = 0;
  for (;;) { const r = await cl.query({ text: 'select position, stream, seq, id, type, data, recorded_at, metadata, previous from rp.events where position >= $1 order by position limit 1000', values: [from], binary }); if (!r.rows.length) break; n += r.rows.length; from = r.rows.at(-1).position + 1; }
  const s = (performance.now() - t) / 1000; console.log('binary', binary, Math.round(n / s), 'rows/s', typeof (await cl.query({text:'select position, data, stream from rp.events limit 1', binary})).rows[0].position);
  await cl.end();
}
await c.query('drop schema rp cascade'); await c.end();
