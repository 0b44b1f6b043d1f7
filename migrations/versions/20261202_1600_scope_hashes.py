"""Each village's scope hash, kept by the database at commit beside the change log

Revision ID: 20261202_1600_scope_hashes
Revises: 20261202_1000_case_notes_chinese

A tablet's pull ends with the contract's scope hash of its villages: the first 16 bytes of
sha256("<type>:<id>:<version>") of every record there, XORed. It was computed from the
records whenever a village had changed since it was last computed, and under a field day's
load some village of every tablet's scope changes between two of its pulls: hashing them was
most of the database's time in bench/load.py. XOR undoes itself, so a change moves a village's
hash by the record's old key and its new one: log_record_change() (at commit, under the
change log's lock, by whatever path wrote) now applies that to scope_hashes, and a pull reads
one row a village. The hash of the records of a village is a scope's part, as two signed
64-bit halves (the XOR of the halves of every key).
"""
from alembic import op

revision = "20261202_1600_scope_hashes"
down_revision = "20261202_1000_case_notes_chinese"
branch_labels = None
depends_on = None

SYNCED_TABLES = {"households": "household", "children": "child", "visits": "visit", "tasks": "task"}

TOGGLE = """
CREATE FUNCTION scope_hash_toggle(p_village varchar, p_keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    h1 bigint := 0;
    h2 bigint := 0;
    k text;
    h text;
BEGIN
    -- XOR a record's key into its village's hash: in when it arrives, out when it leaves (the
    -- same operation). Called at commit under the change log's lock, so one writer at a time.
    IF p_village IS NULL THEN
        RETURN;
    END IF;
    FOREACH k IN ARRAY p_keys LOOP
        h := encode(sha256(convert_to(k, 'UTF8')), 'hex');
        h1 := h1 # ('x' || substr(h, 1, 16))::bit(64)::bigint;
        h2 := h2 # ('x' || substr(h, 17, 16))::bit(64)::bigint;
    END LOOP;
    INSERT INTO scope_hashes (village_code, h1, h2) VALUES (p_village, h1, h2)
    ON CONFLICT (village_code) DO UPDATE
        SET h1 = scope_hashes.h1 # EXCLUDED.h1, h2 = scope_hashes.h2 # EXCLUDED.h2;
END $$
"""

LOG_WITH_HASH = """
CREATE OR REPLACE FUNCTION log_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rtype text := TG_ARGV[0];
BEGIN
    PERFORM pg_advisory_xact_lock(73010001);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
        VALUES (rtype, OLD.id, OLD.village_code, nextval('change_seq'), 'delete',
                (SELECT t.merged_into FROM tombstones t
                  WHERE t.record_type = rtype AND t.record_id = OLD.id))
        ON CONFLICT (record_type, record_id, village_code) DO UPDATE
            SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = EXCLUDED.merged_into;
        PERFORM scope_hash_toggle(OLD.village_code, ARRAY[rtype || ':' || OLD.id || ':' || OLD.version]);
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.village_code IS DISTINCT FROM NEW.village_code THEN
        -- the exit is numbered before the upsert: a device holding both villages ends
        -- with the record
        INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
        VALUES (rtype, OLD.id, OLD.village_code, nextval('change_seq'), 'exit', NULL)
        ON CONFLICT (record_type, record_id, village_code) DO UPDATE
            SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = NULL;
        PERFORM scope_hash_toggle(OLD.village_code, ARRAY[rtype || ':' || OLD.id || ':' || OLD.version]);
        PERFORM scope_hash_toggle(NEW.village_code, ARRAY[rtype || ':' || NEW.id || ':' || NEW.version]);
    ELSIF TG_OP = 'UPDATE' THEN
        -- (OLD and NEW are the row as this event saw it: two updates in one transaction are
        -- two events, v1 -> v2 and v2 -> v3, which XOR to v1 -> v3)
        PERFORM scope_hash_toggle(NEW.village_code, ARRAY[rtype || ':' || OLD.id || ':' || OLD.version,
                                                          rtype || ':' || NEW.id || ':' || NEW.version]);
    ELSE
        PERFORM scope_hash_toggle(NEW.village_code, ARRAY[rtype || ':' || NEW.id || ':' || NEW.version]);
    END IF;
    INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
    VALUES (rtype, NEW.id, NEW.village_code, nextval('change_seq'), 'upsert', NULL)
    ON CONFLICT (record_type, record_id, village_code) DO UPDATE
        SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = NULL;
    RETURN NULL;
END $$
"""

LOG_WITHOUT_HASH = """
CREATE OR REPLACE FUNCTION log_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rtype text := TG_ARGV[0];
BEGIN
    PERFORM pg_advisory_xact_lock(73010001);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
        VALUES (rtype, OLD.id, OLD.village_code, nextval('change_seq'), 'delete',
                (SELECT t.merged_into FROM tombstones t
                  WHERE t.record_type = rtype AND t.record_id = OLD.id))
        ON CONFLICT (record_type, record_id, village_code) DO UPDATE
            SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = EXCLUDED.merged_into;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.village_code IS DISTINCT FROM NEW.village_code THEN
        INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
        VALUES (rtype, OLD.id, OLD.village_code, nextval('change_seq'), 'exit', NULL)
        ON CONFLICT (record_type, record_id, village_code) DO UPDATE
            SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = NULL;
    END IF;
    INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
    VALUES (rtype, NEW.id, NEW.village_code, nextval('change_seq'), 'upsert', NULL)
    ON CONFLICT (record_type, record_id, village_code) DO UPDATE
        SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = NULL;
    RETURN NULL;
END $$
"""

RECORD_KEYS = " UNION ALL ".join(
    f"SELECT village_code, '{rtype}:' || id || ':' || version AS k FROM {table} WHERE village_code IS NOT NULL"  # noqa: S608
    for table, rtype in SYNCED_TABLES.items())

BACKFILL = (
    "INSERT INTO scope_hashes (village_code, h1, h2)"  # noqa: S608 - table names are constants
    " SELECT village_code, bit_xor(('x' || substr(h, 1, 16))::bit(64)::bigint),"
    " bit_xor(('x' || substr(h, 17, 16))::bit(64)::bigint)"
    f" FROM (SELECT village_code, encode(sha256(convert_to(k, 'UTF8')), 'hex') AS h FROM ({RECORD_KEYS}) r) s"
    " GROUP BY village_code")


def upgrade():
    # No writer may commit between the backfill and the new trigger function: it would count
    # twice or not at all. SHARE waits for the writers in flight and holds off new ones.
    op.execute("LOCK TABLE " + ", ".join(SYNCED_TABLES) + " IN SHARE MODE")
    op.execute("CREATE TABLE scope_hashes (village_code varchar(12) PRIMARY KEY,"
               " h1 bigint NOT NULL DEFAULT 0, h2 bigint NOT NULL DEFAULT 0)")
    op.execute(TOGGLE)
    op.execute(LOG_WITH_HASH)
    op.execute(BACKFILL)


def downgrade():
    op.execute(LOG_WITHOUT_HASH)
    op.execute("DROP FUNCTION scope_hash_toggle(varchar, text[])")
    op.execute("DROP TABLE scope_hashes")
