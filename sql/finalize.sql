-- Plain SQL run after the extension's functions are created.

COMMENT ON SCHEMA tsparquet IS 'tsparquet: InfluxDB-style time series';

-- Everyone may call the functions in the schema; each function checks the privileges its
-- work needs (reading and writing measurements follow ordinary table privileges).
GRANT USAGE ON SCHEMA tsparquet TO PUBLIC;
