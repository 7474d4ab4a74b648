-- Plain SQL run after the extension's functions are created.

-- Line protocol, the stored files and the engine's text are UTF-8: in a database of another
-- encoding, text beyond ASCII could neither be written nor read back.
DO $$
BEGIN
  IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
    RAISE EXCEPTION 'tsparquet needs a database encoded in UTF8, not %',
        pg_catalog.getdatabaseencoding()
      USING ERRCODE = 'feature_not_supported',
            HINT = 'Create the extension in a database made with ENCODING ''UTF8''.';
  END IF;
END $$;

COMMENT ON SCHEMA tsparquet IS 'tsparquet: InfluxDB-style time series';

-- Everyone may call the functions in the schema; each function checks the privileges its
-- work needs (reading and writing measurements follow ordinary table privileges).
GRANT USAGE ON SCHEMA tsparquet TO PUBLIC;

-- Storage: every Parquet file is a row, so it is transactional, durable, replicated and
-- dumped like any PostgreSQL data. Only the extension reads and writes it; users reach
-- the data through measurement tables and their privileges.
CREATE SEQUENCE tsparquet.table_ids;
CREATE TABLE tsparquet.files (
    file_id bigserial PRIMARY KEY,
    -- The measurement's table_id option (not its OID, which changes on restore).
    table_id bigint NOT NULL,
    min_time_ns bigint NOT NULL,
    max_time_ns bigint NOT NULL,
    row_count bigint NOT NULL,
    byte_size bigint NOT NULL,
    -- Bytes the rows take decoded, which bounds the merges a write makes.
    memory_size bigint NOT NULL,
    -- The columns the file was written with: [{"name", "role", "type"}].
    columns jsonb NOT NULL,
    data bytea NOT NULL
);
-- Parquet is compressed already; EXTERNAL storage lets byte ranges be read without
-- detoasting the whole value.
ALTER TABLE tsparquet.files ALTER COLUMN data SET STORAGE EXTERNAL;
-- Files are found by the time range they meet (max_time_ns >= start AND min_time_ns <= end).
-- Led by the end of their range, the index reaches only the files that end after the start:
-- a write of new points, or a query of recent hours, reads a few entries however many files
-- a table has, and min_time_ns in the index leaves out those that begin too late without
-- reading their rows.
CREATE INDEX files_table_time ON tsparquet.files (table_id, max_time_ns, min_time_ns);
REVOKE ALL ON tsparquet.files FROM PUBLIC;
REVOKE ALL ON SEQUENCE tsparquet.table_ids FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('tsparquet.files', '');
SELECT pg_catalog.pg_extension_config_dump('tsparquet.files_file_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tsparquet.table_ids', '');

CREATE FUNCTION tsparquet.fdw_handler() RETURNS fdw_handler
    AS 'MODULE_PATHNAME', 'tsparquet_fdw_handler' LANGUAGE C STRICT;
CREATE FUNCTION tsparquet.fdw_validator(text[], oid) RETURNS void
    AS 'MODULE_PATHNAME', 'tsparquet_fdw_validator' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER tsparquet
    HANDLER tsparquet.fdw_handler VALIDATOR tsparquet.fdw_validator;
CREATE SERVER tsparquet FOREIGN DATA WRAPPER tsparquet;

-- Members may create measurement tables by hand (CREATE FOREIGN TABLE ... SERVER
-- tsparquet). write_lp needs no membership: it checks CREATE on the target schema.
DO $$
BEGIN
    CREATE ROLE tsparquet_writer NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
    NULL;
END
$$;
GRANT USAGE ON FOREIGN SERVER tsparquet TO tsparquet_writer;

-- Dropping a measurement (DROP FOREIGN TABLE, DROP SCHEMA ... CASCADE) releases its files.
CREATE FUNCTION tsparquet.release_dropped_storage() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE object_type = 'foreign table') THEN
        DELETE FROM tsparquet.files f
        WHERE NOT EXISTS (
            SELECT 1
            FROM pg_foreign_table ft
            JOIN pg_foreign_server s ON s.oid = ft.ftserver AND s.srvname = 'tsparquet'
            WHERE ('table_id=' || f.table_id) = ANY (ft.ftoptions));
    END IF;
END
$$;
CREATE EVENT TRIGGER tsparquet_release_storage ON sql_drop
    EXECUTE FUNCTION tsparquet.release_dropped_storage();

-- A measurement's column dropped or renamed (ALTER TABLE ... DROP | RENAME COLUMN): its
-- files are rewritten to hold the table's columns under the table's names, since stored
-- columns are found by name. time and time_ns cannot be dropped or renamed, nor a
-- column's type changed.
CREATE FUNCTION tsparquet.follow_column_changes() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'tsparquet_follow_column_changes' LANGUAGE C;
-- Every statement's tag: ALTER VIEW and ALTER MATERIALIZED VIEW also rename a foreign
-- table's columns, and a DROP ... CASCADE of a type or collation drops them.
CREATE EVENT TRIGGER tsparquet_dropped_columns ON sql_drop
    EXECUTE FUNCTION tsparquet.follow_column_changes();
CREATE EVENT TRIGGER tsparquet_altered_columns ON ddl_command_end
    EXECUTE FUNCTION tsparquet.follow_column_changes();

-- The tag and field columns of every measurement the current user can see.
CREATE VIEW tsparquet.columns AS
SELECT n.nspname AS database,
       c.relname AS measurement,
       a.attname AS column_name,
       substr(o.option, 6) AS role,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnum AS position
FROM pg_catalog.pg_foreign_table ft
JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver AND s.srvname = 'tsparquet'
JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
CROSS JOIN LATERAL unnest(a.attfdwoptions) AS o(option)
WHERE o.option LIKE 'role=%'
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT');
GRANT SELECT ON tsparquet.columns TO PUBLIC;

-- time_bucket with TimescaleDB's signature and meaning for timestamptz: buckets of a fixed
-- width counted from Monday 2000-01-03 (or a given origin) in both directions. Plain SQL
-- over date_bin, so the planner inlines it and queries on measurements push it down.
CREATE FUNCTION tsparquet.time_bucket(bucket_width interval, ts timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT pg_catalog.date_bin(bucket_width, ts, '2000-01-03 00:00:00+00'::timestamptz) $$;
CREATE FUNCTION tsparquet.time_bucket(bucket_width interval, ts timestamptz, origin timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT pg_catalog.date_bin(bucket_width, ts, origin) $$;

-- first(value, time) and last(value, time), TimescaleDB's aggregates: the value at the
-- earliest or latest time of each group. Pushed down into the query engine on measurements.
CREATE FUNCTION tsparquet.first_transition(internal, anyelement, timestamptz) RETURNS internal
    AS 'MODULE_PATHNAME', 'tsparquet_first_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION tsparquet.last_transition(internal, anyelement, timestamptz) RETURNS internal
    AS 'MODULE_PATHNAME', 'tsparquet_last_transition' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION tsparquet.extreme_final(internal, anyelement, timestamptz) RETURNS anyelement
    AS 'MODULE_PATHNAME', 'tsparquet_extreme_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE tsparquet.first(anyelement, timestamptz) (
    SFUNC = tsparquet.first_transition, STYPE = internal,
    FINALFUNC = tsparquet.extreme_final, FINALFUNC_EXTRA);
CREATE AGGREGATE tsparquet.last(anyelement, timestamptz) (
    SFUNC = tsparquet.last_transition, STYPE = internal,
    FINALFUNC = tsparquet.extreme_final, FINALFUNC_EXTRA);
