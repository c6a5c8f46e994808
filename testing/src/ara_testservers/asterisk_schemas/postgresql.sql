-- Asterisk realtime tables as its alembic scripts leave them on PostgreSQL (written from the
-- facts in shared/research/asterisk-ara-facts.md, Appendix A; a subset of columns per table,
-- every awkward kind kept: enum types, booleans, "100rel", "@body", "session-timers").
CREATE TYPE yes_no_values AS ENUM ('yes', 'no');
CREATE TYPE ast_bool_values AS ENUM ('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes');
CREATE TYPE type_values AS ENUM ('friend', 'user', 'peer');
CREATE TYPE sip_transport_values AS ENUM ('udp', 'tcp', 'tls', 'ws', 'wss', 'udp,tcp', 'tcp,udp');
CREATE TYPE sip_dtmfmode_values AS ENUM ('rfc2833', 'info', 'shortinfo', 'inband', 'auto');
CREATE TYPE sip_directmedia_values_v2 AS ENUM ('yes', 'no', 'nonat', 'update', 'outgoing');
CREATE TYPE sip_session_timers_values AS ENUM ('accept', 'refuse', 'originate');
CREATE TYPE sip_session_refresher_values AS ENUM ('uac', 'uas');
CREATE TYPE pjsip_100rel_values_v2 AS ENUM ('no', 'required', 'peer_supported', 'yes');
CREATE TYPE pjsip_dtmf_mode_values_v3 AS ENUM ('rfc4733', 'inband', 'info', 'auto', 'auto_info');
CREATE TYPE pjsip_auth_type_values_v2 AS ENUM ('md5', 'userpass', 'google_oauth');
CREATE TYPE moh_mode_values AS ENUM ('custom', 'files', 'mp3nb', 'quietmp3nb', 'quietmp3', 'playlist');

CREATE TABLE sippeers (
    id SERIAL PRIMARY KEY,
    name VARCHAR(40) NOT NULL UNIQUE,
    ipaddr VARCHAR(45),
    port INTEGER,
    regseconds INTEGER,
    defaultuser VARCHAR(40),
    fullcontact VARCHAR(80),
    regserver VARCHAR(20),
    useragent VARCHAR(255),
    lastms INTEGER,
    host VARCHAR(40),
    type type_values,
    context VARCHAR(40),
    secret VARCHAR(40),
    transport sip_transport_values,
    dtmfmode sip_dtmfmode_values,
    directmedia sip_directmedia_values_v2,
    nat VARCHAR(29),
    disallow VARCHAR(200),
    allow VARCHAR(200),
    trustrpid yes_no_values,
    callcounter yes_no_values,
    "session-timers" sip_session_timers_values,
    "session-expires" INTEGER,
    "session-refresher" sip_session_refresher_values,
    "call-limit" INTEGER,
    path VARCHAR(256),
    supportpath yes_no_values
);
CREATE INDEX sippeers_name ON sippeers (name);
CREATE INDEX sippeers_name_host ON sippeers (name, host);
CREATE INDEX sippeers_ipaddr_port ON sippeers (ipaddr, port);
CREATE INDEX sippeers_host_port ON sippeers (host, port);

CREATE TABLE ps_endpoints (
    id VARCHAR(255) NOT NULL UNIQUE,
    transport VARCHAR(40),
    aors VARCHAR(2048),
    auth VARCHAR(255),
    context VARCHAR(40),
    disallow VARCHAR(200),
    allow VARCHAR(200),
    direct_media ast_bool_values,
    dtmf_mode pjsip_dtmf_mode_values_v3,
    force_rport ast_bool_values,
    rtp_symmetric ast_bool_values,
    timers_min_se INTEGER,
    "100rel" pjsip_100rel_values_v2,
    set_var TEXT,
    mailboxes VARCHAR(40)
);
CREATE TABLE ps_auths (
    id VARCHAR(255) NOT NULL UNIQUE,
    auth_type pjsip_auth_type_values_v2,
    nonce_lifetime INTEGER,
    password VARCHAR(80),
    username VARCHAR(40)
);
CREATE TABLE ps_aors (
    id VARCHAR(255) NOT NULL UNIQUE,
    contact VARCHAR(255),
    max_contacts INTEGER,
    remove_existing ast_bool_values,
    qualify_timeout FLOAT
);
CREATE TABLE ps_contacts (
    id VARCHAR(255) NOT NULL UNIQUE,
    uri VARCHAR(511),
    expiration_time BIGINT,
    path TEXT,
    reg_server VARCHAR(255),
    prune_on_boot ast_bool_values
);
CREATE TABLE ps_transports (
    id VARCHAR(40) NOT NULL UNIQUE,
    bind VARCHAR(40),
    tcp_keepalive_enable BOOLEAN
);
CREATE TABLE ps_outbound_publishes (
    id VARCHAR(255) NOT NULL UNIQUE,
    expiration INTEGER,
    server_uri VARCHAR(256),
    event VARCHAR(40),
    "@body" VARCHAR(40),
    "@context" VARCHAR(256),
    "@exten" VARCHAR(256)
);
CREATE TABLE ps_inbound_publications (
    id VARCHAR(255) NOT NULL UNIQUE,
    endpoint VARCHAR(255),
    "event_asterisk-devicestate" VARCHAR(40),
    "event_asterisk-mwi" VARCHAR(40)
);
CREATE TABLE musiconhold (
    name VARCHAR(80) PRIMARY KEY,
    mode moh_mode_values,
    directory VARCHAR(255),
    stamp TIMESTAMP WITHOUT TIME ZONE
);
CREATE TABLE voicemail (
    uniqueid SERIAL PRIMARY KEY,
    context VARCHAR(80) NOT NULL,
    mailbox VARCHAR(80) NOT NULL,
    password VARCHAR(80) NOT NULL,
    attach yes_no_values,
    volgain NUMERIC(5, 2),
    stamp TIMESTAMP WITHOUT TIME ZONE
);
CREATE TABLE ast_config (
    id SERIAL PRIMARY KEY,
    cat_metric INTEGER NOT NULL DEFAULT 0,
    var_metric INTEGER NOT NULL DEFAULT 0,
    commented INTEGER NOT NULL DEFAULT 0,
    filename VARCHAR(128) NOT NULL DEFAULT '',
    category VARCHAR(128) NOT NULL DEFAULT 'default',
    var_name VARCHAR(128) NOT NULL DEFAULT '',
    var_val VARCHAR(128) NOT NULL DEFAULT ''
);
