-- The example PBX: tables shaped like Asterisk's realtime schemas (alembic), a few rows each.
-- scripts/demo builds pbx.db from this file; the tests do the same in a temporary directory.
CREATE TABLE sippeers (
  id INTEGER PRIMARY KEY,
  name VARCHAR(40) NOT NULL UNIQUE,
  ipaddr VARCHAR(45), port INTEGER, regseconds INTEGER, defaultuser VARCHAR(40),
  fullcontact VARCHAR(80), regserver VARCHAR(20), useragent VARCHAR(255), lastms INTEGER,
  host VARCHAR(40), type VARCHAR(6), context VARCHAR(40), secret VARCHAR(40),
  transport VARCHAR(7), dtmfmode VARCHAR(10), nat VARCHAR(29), callerid VARCHAR(40),
  mailbox VARCHAR(40), disallow VARCHAR(200), allow VARCHAR(200), insecure VARCHAR(40),
  "session-timers" VARCHAR(9), "call-limit" INTEGER, callbackextension VARCHAR(40)
);
CREATE INDEX sippeers_name_host ON sippeers (name, host);
CREATE INDEX sippeers_ipaddr_port ON sippeers (ipaddr, port);
INSERT INTO sippeers (name, host, type, context, secret, transport, dtmfmode, nat, callerid,
                      mailbox, disallow, allow, "session-timers", "call-limit")
VALUES
  ('alice', 'dynamic', 'friend', 'internal', 'Al1ce-s3cret', 'udp', 'rfc2833', 'force_rport,comedia',
   '"Alice Liddell" <1001>', '1001@default', 'all', 'ulaw;alaw;g722', 'accept', 2),
  ('bob', 'dynamic', 'friend', 'internal', 'b0b-s3cret', 'udp', 'rfc2833', 'no',
   '"Bob Builder" <1002>', '1002@default', 'all', 'ulaw;alaw', 'originate', 1),
  ('carol', 'dynamic', 'friend', 'internal', 'c4rol', 'tcp', 'info', 'no',
   '"Carol" <1003>', '1003@default', 'all', 'g722', NULL, NULL),
  ('trunk-itsp', '203.0.113.10', 'peer', 'from-trunk', 'trunkpw', 'udp', 'rfc2833', 'no',
   NULL, NULL, 'all', 'ulaw', NULL, 30);
UPDATE sippeers SET ipaddr = '192.0.2.21', port = 5060, regseconds = 1790000000,
  defaultuser = 'alice', fullcontact = 'sip:alice@192.0.2.21:5060', useragent = 'Yealink T46U',
  lastms = 23 WHERE name = 'alice';

CREATE TABLE voicemail (
  uniqueid INTEGER PRIMARY KEY, context VARCHAR(80) NOT NULL, mailbox VARCHAR(80) NOT NULL,
  password VARCHAR(80) NOT NULL, fullname VARCHAR(80), email VARCHAR(80), pager VARCHAR(80),
  attach VARCHAR(3), saycid VARCHAR(3), tz VARCHAR(30), maxmsg INTEGER
);
INSERT INTO voicemail (context, mailbox, password, fullname, email, attach, tz, maxmsg) VALUES
  ('default', '1001', '4242', 'Alice Liddell', 'alice@example.org', 'yes', 'central', 100),
  ('default', '1002', '1234', 'Bob Builder', 'bob@example.org', 'no', 'eastern', 50);

CREATE TABLE extensions (
  id INTEGER PRIMARY KEY, context VARCHAR(40) NOT NULL, exten VARCHAR(40) NOT NULL,
  priority INTEGER NOT NULL, app VARCHAR(40) NOT NULL, appdata VARCHAR(256) NOT NULL,
  UNIQUE (context, exten, priority)
);
INSERT INTO extensions (context, exten, priority, app, appdata) VALUES
  ('internal', '1001', 1, 'Dial', 'SIP/alice,20'),
  ('internal', '1001', 2, 'VoiceMail', '1001@default,u'),
  ('internal', '1002', 1, 'Dial', 'SIP/bob,20'),
  ('internal', '_1XXX', 1, 'Dial', 'SIP/${EXTEN},20'),
  ('internal', '_9NXXNXXXXXX', 1, 'Dial', 'SIP/trunk-itsp/${EXTEN:1}'),
  ('internal', '911', 1, 'Dial', 'SIP/trunk-itsp/911');

CREATE TABLE queues (
  name VARCHAR(128) PRIMARY KEY, musiconhold VARCHAR(128), context VARCHAR(128),
  timeout INTEGER, strategy VARCHAR(11), wrapuptime INTEGER, maxlen INTEGER
);
INSERT INTO queues VALUES ('support', 'default', 'internal', 15, 'rrmemory', 5, 0),
                          ('sales', 'default', 'internal', 20, 'ringall', 0, 10);

CREATE TABLE queue_members (
  uniqueid INTEGER PRIMARY KEY, queue_name VARCHAR(80) NOT NULL, interface VARCHAR(80) NOT NULL,
  membername VARCHAR(80), state_interface VARCHAR(80), penalty INTEGER, paused INTEGER,
  UNIQUE (queue_name, interface)
);
INSERT INTO queue_members (queue_name, interface, membername, penalty, paused) VALUES
  ('support', 'SIP/alice', 'Alice', 0, 0), ('support', 'SIP/bob', 'Bob', 1, 0),
  ('sales', 'SIP/carol', 'Carol', 0, 0);

CREATE TABLE ast_config (
  id INTEGER PRIMARY KEY, cat_metric INTEGER NOT NULL DEFAULT 0,
  var_metric INTEGER NOT NULL DEFAULT 0, commented INTEGER NOT NULL DEFAULT 0,
  filename VARCHAR(128) NOT NULL DEFAULT '', category VARCHAR(128) NOT NULL DEFAULT 'default',
  var_name VARCHAR(128) NOT NULL DEFAULT '', var_val TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ast_config_file ON ast_config (filename, commented);
INSERT INTO ast_config (cat_metric, var_metric, filename, category, var_name, var_val) VALUES
  (2, 0, 'queues.conf', 'general', 'persistentmembers', 'yes'),
  (2, 1, 'queues.conf', 'general', 'autofill', 'yes'),
  (1, 0, 'queues.conf', 'support', 'strategy', 'rrmemory'),
  (1, 1, 'queues.conf', 'support', 'member', 'SIP/alice'),
  (1, 2, 'queues.conf', 'support', 'member', 'SIP/bob'),
  (0, 0, 'queues.conf', 'sales', 'strategy', 'ringall');
INSERT INTO ast_config (cat_metric, var_metric, commented, filename, category, var_name, var_val)
  VALUES (0, 1, 1, 'queues.conf', 'sales', 'member', 'SIP/retired');
