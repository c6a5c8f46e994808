-- Asterisk realtime tables as its alembic scripts leave them on MySQL/MariaDB (written from
-- shared/research/asterisk-ara-facts.md, Appendix A; a subset of columns per table): inline
-- ENUMs, AUTO_INCREMENT, the database's default (case-insensitive, PAD SPACE) collation.
CREATE TABLE sippeers (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(40) NOT NULL UNIQUE,
    ipaddr VARCHAR(45),
    port INTEGER,
    regseconds INTEGER,
    defaultuser VARCHAR(40),
    fullcontact VARCHAR(80),
    useragent VARCHAR(255),
    lastms INTEGER,
    host VARCHAR(40),
    type ENUM('friend', 'user', 'peer'),
    context VARCHAR(40),
    secret VARCHAR(40),
    transport ENUM('udp', 'tcp', 'tls', 'ws', 'wss', 'udp,tcp', 'tcp,udp'),
    dtmfmode ENUM('rfc2833', 'info', 'shortinfo', 'inband', 'auto'),
    allow VARCHAR(200),
    trustrpid ENUM('yes', 'no'),
    `session-timers` ENUM('accept', 'refuse', 'originate'),
    `session-expires` INTEGER,
    `call-limit` INTEGER,
    INDEX sippeers_name (name),
    INDEX sippeers_name_host (name, host),
    INDEX sippeers_ipaddr_port (ipaddr, port),
    INDEX sippeers_host_port (host, port)
);
CREATE TABLE ps_endpoints (
    id VARCHAR(255) NOT NULL UNIQUE,
    transport VARCHAR(40),
    aors VARCHAR(2048),
    context VARCHAR(40),
    direct_media ENUM('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes'),
    dtmf_mode ENUM('rfc4733', 'inband', 'info', 'auto', 'auto_info'),
    `100rel` ENUM('no', 'required', 'peer_supported', 'yes'),
    set_var TEXT
);
CREATE TABLE ps_aors (
    id VARCHAR(255) NOT NULL UNIQUE,
    max_contacts INTEGER,
    qualify_timeout FLOAT,
    remove_existing ENUM('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes')
);
CREATE TABLE ps_contacts (
    id VARCHAR(255) NOT NULL UNIQUE,
    uri VARCHAR(511),
    expiration_time BIGINT,
    reg_server VARCHAR(255)
);
CREATE TABLE ps_outbound_publishes (
    id VARCHAR(255) NOT NULL UNIQUE,
    `@body` VARCHAR(40),
    `@context` VARCHAR(256),
    `@exten` VARCHAR(256)
);
CREATE TABLE ps_inbound_publications (
    id VARCHAR(255) NOT NULL UNIQUE,
    endpoint VARCHAR(255),
    `event_asterisk-devicestate` VARCHAR(40),
    `event_asterisk-mwi` VARCHAR(40)
);
CREATE TABLE musiconhold (
    name VARCHAR(80) NOT NULL PRIMARY KEY,
    mode ENUM('custom', 'files', 'mp3nb', 'quietmp3nb', 'quietmp3', 'playlist'),
    directory VARCHAR(255),
    stamp DATETIME
);
CREATE TABLE voicemail (
    uniqueid INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    context VARCHAR(80) NOT NULL,
    mailbox VARCHAR(80) NOT NULL,
    password VARCHAR(80) NOT NULL,
    volgain DECIMAL(5, 2)
);
CREATE TABLE ast_config (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cat_metric INTEGER NOT NULL DEFAULT 0,
    var_metric INTEGER NOT NULL DEFAULT 0,
    commented INTEGER NOT NULL DEFAULT 0,
    filename VARCHAR(128) NOT NULL DEFAULT '',
    category VARCHAR(128) NOT NULL DEFAULT 'default',
    var_name VARCHAR(128) NOT NULL DEFAULT '',
    var_val VARCHAR(128) NOT NULL DEFAULT ''
);
