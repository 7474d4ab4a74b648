-- Runs once after the regression database is created.
CREATE EXTENSION tsparquet;

-- The lines of EXPLAIN (ANALYZE, VERBOSE) that show the operators the engine ran, each with
-- what it measured; tests pick from them what does not vary from run to run.
CREATE FUNCTION public.engine_operators(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
  in_engine boolean := false;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
    in_engine := in_engine OR line ~ 'DataFusion Execution';
    CONTINUE WHEN NOT in_engine OR line !~ 'Exec: ';
    RETURN NEXT line;
  END LOOP;
END $$;
