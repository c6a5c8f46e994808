-- Asterisk realtime tables as its alembic scripts (SQLAlchemy) would render them on SQLite: an
-- ENUM becomes VARCHAR(n) with a CHECK constraint; a subset of columns per table.
CREATE TABLE sippeers (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(40) NOT NULL UNIQUE,
    ipaddr VARCHAR(45),
    port INTEGER,
    regseconds INTEGER,
    defaultuser VARCHAR(40),
    fullcontact VARCHAR(80),
    useragent VARCHAR(255),
    lastms INTEGER,
    host VARCHAR(40),
    type VARCHAR(6) CHECK (type IN ('friend', 'user', 'peer')),
    context VARCHAR(40),
    secret VARCHAR(40),
    transport VARCHAR(7) CHECK (transport IN ('udp', 'tcp', 'tls', 'ws', 'wss', 'udp,tcp', 'tcp,udp')),
    dtmfmode VARCHAR(9) CHECK (dtmfmode IN ('rfc2833', 'info', 'shortinfo', 'inband', 'auto')),
    allow VARCHAR(200),
    trustrpid VARCHAR(3) CHECK (trustrpid IN ('yes', 'no')),
    "session-timers" VARCHAR(9) CHECK ("session-timers" IN ('accept', 'refuse', 'originate')),
    "session-expires" INTEGER,
    "call-limit" INTEGER
);
CREATE INDEX sippeers_name_host ON sippeers (name, host);
CREATE TABLE ps_endpoints (
    id VARCHAR(255) NOT NULL UNIQUE,
    transport VARCHAR(40),
    aors VARCHAR(2048),
    context VARCHAR(40),
    direct_media VARCHAR(5) CHECK (direct_media IN ('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes')),
    dtmf_mode VARCHAR(9) CHECK (dtmf_mode IN ('rfc4733', 'inband', 'info', 'auto', 'auto_info')),
    "100rel" VARCHAR(14) CHECK ("100rel" IN ('no', 'required', 'peer_supported', 'yes')),
    set_var TEXT
);
CREATE TABLE ps_contacts (
    id VARCHAR(255) NOT NULL UNIQUE,
    uri VARCHAR(511),
    expiration_time BIGINT,
    reg_server VARCHAR(255)
);
CREATE TABLE ps_outbound_publishes (
    id VARCHAR(255) NOT NULL UNIQUE,
    "@body" VARCHAR(40),
    "@context" VARCHAR(256),
    "@exten" VARCHAR(256)
);
CREATE TABLE ast_config (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    cat_metric INTEGER NOT NULL DEFAULT 0,
    var_metric INTEGER NOT NULL DEFAULT 0,
    commented INTEGER NOT NULL DEFAULT 0,
    filename VARCHAR(128) NOT NULL DEFAULT '',
    category VARCHAR(128) NOT NULL DEFAULT 'default',
    var_name VARCHAR(128) NOT NULL DEFAULT '',
    var_val VARCHAR(128) NOT NULL DEFAULT ''
);
