/**
 * Node-RED settings for the chaosbus demo automation.
 *
 * Everything that differs between a laptop and the compose stack comes from the
 * environment:
 *
 *   CHAOSBUS_BOOTSTRAP       Kafka brokers, comma-separated HOST:PORT   (127.0.0.1:9092)
 *   CHAOSBUS_KAFKA_SECURITY_PROTOCOL, _SASL_MECHANISM, _SASL_USERNAME, _SASL_PASSWORD,
 *   _SSL_CA, _SSL_CERT, _SSL_KEY, _SSL_CHECK_HOSTNAME (0 turns it off)
 *                            SASL and TLS, as chaosbus's own clients use (PLAINTEXT)
 *   CHAOSBUS_SOURCE_TOPIC    topic the webhook publishes to             (orders.nocode)
 *   PORT                     HTTP port of the webhook and the editor    (1880)
 *   CHAOSBUS_NODE_RED_HOST   interface to listen on                     (all interfaces)
 *   CHAOSBUS_NODE_RED_HOME   writable user directory                    (this file's directory)
 *
 * The flow is the flows.json next to this file (the container image passes its path as
 * the FLOWS argument, which Node-RED prefers; the same file either way).
 *
 * kafkajs is handed to the flow through functionGlobalContext, so the function node needs
 * no contrib Kafka node (docs/decisions/0002-node-red-kafka.md).
 */
"use strict";

const path = require("path");

// kafkajs lives next to node-red: in the install directory that chaosbus.demo.nodered
// starts Node-RED from, or /usr/src/node-red in the official image. Both are the working
// directory of the process; this file's own directory is tried second.
function loadKafkajs() {
    const where = require.resolve("kafkajs", { paths: [process.cwd(), __dirname] });
    return require(where);
}

function brokers() {
    return (process.env.CHAOSBUS_BOOTSTRAP || "127.0.0.1:9092")
        .split(",")
        .map((b) => b.trim())
        .filter((b) => b.length > 0);
}

// kafkajs's `ssl` and `sasl` options from the same settings chaosbus's clients use.
function security() {
    const env = process.env;
    const protocol = (env.CHAOSBUS_KAFKA_SECURITY_PROTOCOL || "PLAINTEXT").toUpperCase();
    const out = { ssl: undefined, sasl: undefined };
    if (protocol === "SSL" || protocol === "SASL_SSL") {
        const fs = require("fs");
        const ssl = { rejectUnauthorized: true };
        if (env.CHAOSBUS_KAFKA_SSL_CA) ssl.ca = [fs.readFileSync(env.CHAOSBUS_KAFKA_SSL_CA, "utf-8")];
        if (env.CHAOSBUS_KAFKA_SSL_CERT) ssl.cert = fs.readFileSync(env.CHAOSBUS_KAFKA_SSL_CERT, "utf-8");
        if (env.CHAOSBUS_KAFKA_SSL_KEY) ssl.key = fs.readFileSync(env.CHAOSBUS_KAFKA_SSL_KEY, "utf-8");
        if (env.CHAOSBUS_KAFKA_SSL_CHECK_HOSTNAME === "0") ssl.checkServerIdentity = () => undefined;
        out.ssl = ssl;
    }
    if (protocol.startsWith("SASL_")) {
        out.sasl = {
            mechanism: (env.CHAOSBUS_KAFKA_SASL_MECHANISM || "PLAIN").toLowerCase(),
            username: env.CHAOSBUS_KAFKA_SASL_USERNAME || "",
            password: env.CHAOSBUS_KAFKA_SASL_PASSWORD || "",
        };
    }
    return out;
}

const userDir = process.env.CHAOSBUS_NODE_RED_HOME || __dirname;

module.exports = {
    userDir: userDir,
    flowFile: path.join(__dirname, "flows.json"),
    flowFilePretty: true,
    // The flow holds no credentials: with no key to manage, Node-RED neither generates one
    // nor prints the key warning; it logs a single "Using unencrypted credentials" line.
    credentialSecret: false,

    uiPort: Number(process.env.PORT || 1880),
    uiHost: process.env.CHAOSBUS_NODE_RED_HOST || undefined,
    httpNodeRoot: "/",
    // The editor stays on so the flow can be looked at; bind it to loopback (compose does).
    httpAdminRoot: "/admin",

    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    functionExternalModules: false,
    functionTimeout: 0,

    functionGlobalContext: {
        kafkajs: loadKafkajs(),
        kafka: {
            clientId: "chaosbus-demo-node-red",
            brokers: brokers(),
            ...security(),
            topic: process.env.CHAOSBUS_SOURCE_TOPIC || "orders.nocode",
        },
    },
    exportGlobalContextKeys: false,

    logging: {
        console: { level: process.env.CHAOSBUS_NODE_RED_LOG_LEVEL || "info", metrics: false, audit: false },
    },
    editorTheme: {
        tours: false,
    },
};
