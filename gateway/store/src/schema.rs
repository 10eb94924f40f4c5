//! Diesel's view of the tables in `migrations/` (both backends share it).
//! Kept in step with the migrations by `storage::tests::schema_matches_migrations`.

diesel::table! {
    sites (id) {
        id -> BigInt,
        name -> Text,
        home -> Nullable<Text>,
    }
}

diesel::table! {
    role_categories (id) {
        id -> BigInt,
        name -> Text,
        ordinal -> Integer,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    components (id) {
        id -> BigInt,
        site_id -> BigInt,
        name -> Text,
        package_name -> Text,
        package_version -> Text,
        package_format -> Text,
        sha256 -> Text,
        size -> BigInt,
        storage_key -> Text,
        config_path -> Nullable<Text>,
        config_template -> Nullable<Text>,
        created_at -> BigInt,
        config_attributes -> Nullable<Text>,
        plugin -> Nullable<Text>,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        site_id -> BigInt,
        category_id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    role_versions (id) {
        id -> BigInt,
        role_id -> BigInt,
        version -> Integer,
        created_at -> BigInt,
        author -> Nullable<Text>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    role_version_components (id) {
        id -> BigInt,
        role_version_id -> BigInt,
        component_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    role_version_parameters (id) {
        id -> BigInt,
        role_version_id -> BigInt,
        component_id -> BigInt,
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    models (id) {
        id -> BigInt,
        site_id -> BigInt,
        name -> Text,
        current_version_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    model_versions (id) {
        id -> BigInt,
        model_id -> BigInt,
        version -> Integer,
        created_at -> BigInt,
        author -> Nullable<Text>,
        reason -> Nullable<Text>,
        restores -> Nullable<Integer>,
    }
}

diesel::table! {
    inventories (id) {
        id -> BigInt,
        device_id -> BigInt,
        taken_at -> BigInt,
        received_at -> BigInt,
        occasion -> Text,
        model_version_id -> Nullable<BigInt>,
        drift -> Integer,
        body -> Text,
    }
}

diesel::table! {
    drifts (id) {
        id -> BigInt,
        device_id -> BigInt,
        kind -> Text,
        subject -> Text,
        category -> Nullable<Text>,
        component -> Nullable<Text>,
        expected -> Nullable<Text>,
        actual -> Nullable<Text>,
        diff -> Nullable<Text>,
        changed_by -> Nullable<Text>,
        model_version_id -> Nullable<BigInt>,
        first_seen_at -> BigInt,
        last_seen_at -> BigInt,
        resolved_at -> Nullable<BigInt>,
        resolution -> Nullable<Text>,
    }
}

diesel::table! {
    rollouts (id) {
        id -> BigInt,
        model_id -> BigInt,
        target_version_id -> BigInt,
        state -> Text,
        active -> Nullable<Integer>,
        canary -> Integer,
        batch_size -> Integer,
        max_failures -> Integer,
        max_failure_percent -> Nullable<Integer>,
        expire_after_ms -> Nullable<BigInt>,
        stage -> Integer,
        halt_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        finished_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    rollout_devices (rollout_id, device_id) {
        rollout_id -> BigInt,
        device_id -> BigInt,
        stage -> Integer,
        state -> Text,
        from_version_id -> Nullable<BigInt>,
        commands -> Integer,
        first_sequence -> Nullable<BigInt>,
        last_sequence -> Nullable<BigInt>,
        detail -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    model_version_roles (id) {
        id -> BigInt,
        model_version_id -> BigInt,
        category_id -> BigInt,
        role_version_id -> BigInt,
    }
}

diesel::table! {
    devices (id) {
        id -> BigInt,
        site_id -> BigInt,
        name -> Text,
        model_id -> BigInt,
        desired_model_version_id -> Nullable<BigInt>,
        applied_model_version_id -> Nullable<BigInt>,
        poke_url -> Nullable<Text>,
        boot_id -> Nullable<Text>,
        agent_version -> Nullable<Text>,
        last_seen_at -> Nullable<BigInt>,
        created_at -> BigInt,
        provisioned_from -> Nullable<BigInt>,
        agent_report -> Nullable<Text>,
    }
}

diesel::table! {
    commands (id) {
        id -> BigInt,
        device_id -> BigInt,
        sequence -> BigInt,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        run -> Integer,
        result -> Nullable<Text>,
        model_version_id -> Nullable<BigInt>,
        created_at -> BigInt,
        sent_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
        /// Generated by the database (1: open state, 0: closed); never written.
        in_queue -> Nullable<Integer>,
    }
}

diesel::table! {
    exchanges (id) {
        id -> BigInt,
        device_id -> Nullable<BigInt>,
        operation -> Text,
        connection_serial -> BigInt,
        gateway_instance -> Text,
        peer -> Text,
        answer -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    scripts (id) {
        id -> BigInt,
        site_id -> BigInt,
        name -> Text,
        description -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    script_steps (script_id, position) {
        script_id -> BigInt,
        position -> Integer,
        kind -> Text,
        payload -> Text,
    }
}

diesel::joinable!(components -> sites (site_id));
diesel::joinable!(roles -> sites (site_id));
diesel::table! {
    enrolment_tokens (id) {
        id -> BigInt,
        device_id -> BigInt,
        token_sha256 -> Text,
        address -> Text,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    device_certificates (id) {
        id -> BigInt,
        device_id -> BigInt,
        sha256 -> Text,
        not_after -> BigInt,
        issued_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    operators (id) {
        id -> BigInt,
        name -> Text,
        password_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    operator_rights (id) {
        id -> BigInt,
        operator_id -> Nullable<BigInt>,
        group_id -> Nullable<BigInt>,
        site_id -> Nullable<BigInt>,
        category_id -> Nullable<BigInt>,
        action -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        principal -> Text,
        action -> Text,
        site -> Nullable<Text>,
        object -> Text,
        peer -> Text,
        outcome -> Text,
        detail -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    enrolment_requests (id) {
        id -> BigInt,
        device_id -> BigInt,
        key_sha256 -> Text,
        csr -> Text,
        peer -> Text,
        state -> Text,
        certificate -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    operator_certificates (id) {
        id -> BigInt,
        operator_id -> BigInt,
        sha256 -> Text,
        not_after -> BigInt,
        issued_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    operator_groups (id) {
        id -> BigInt,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    group_members (id) {
        id -> BigInt,
        group_id -> BigInt,
        operator_id -> BigInt,
    }
}

diesel::joinable!(roles -> role_categories (category_id));
diesel::joinable!(role_versions -> roles (role_id));
diesel::joinable!(role_version_components -> role_versions (role_version_id));
diesel::joinable!(role_version_components -> components (component_id));
diesel::joinable!(model_versions -> models (model_id));
diesel::joinable!(model_version_roles -> model_versions (model_version_id));
diesel::joinable!(model_version_roles -> role_versions (role_version_id));
diesel::joinable!(model_version_roles -> role_categories (category_id));
diesel::joinable!(commands -> devices (device_id));
diesel::joinable!(rollouts -> models (model_id));
diesel::joinable!(inventories -> devices (device_id));
diesel::table! {
    console_sessions (id) {
        id -> BigInt,
        token_sha256 -> Text,
        operator_id -> BigInt,
        csrf -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(console_sessions -> operators (operator_id));
diesel::joinable!(drifts -> devices (device_id));
diesel::joinable!(rollout_devices -> rollouts (rollout_id));
diesel::joinable!(rollout_devices -> devices (device_id));
diesel::joinable!(scripts -> sites (site_id));
diesel::joinable!(devices -> models (model_id));
diesel::joinable!(devices -> sites (site_id));
diesel::joinable!(script_steps -> scripts (script_id));
diesel::joinable!(enrolment_tokens -> devices (device_id));
diesel::joinable!(device_certificates -> devices (device_id));
diesel::joinable!(operator_rights -> operators (operator_id));
diesel::joinable!(group_members -> operators (operator_id));
diesel::joinable!(enrolment_requests -> devices (device_id));
diesel::joinable!(operator_certificates -> operators (operator_id));
diesel::joinable!(group_members -> operator_groups (group_id));

diesel::table! {
    data_centre (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    peers (id) {
        id -> BigInt,
        name -> Text,
        url -> Text,
        certificate_sha256 -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    peer_sites (peer_id, site_id) {
        peer_id -> BigInt,
        site_id -> BigInt,
    }
}

diesel::table! {
    file_servers (id) {
        id -> BigInt,
        name -> Text,
        url -> Text,
        certificate_sha256 -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    file_server_sites (file_server_id, site_id) {
        file_server_id -> BigInt,
        site_id -> BigInt,
    }
}

diesel::table! {
    federation_log (origin, seq) {
        origin -> Text,
        seq -> BigInt,
        hlc -> BigInt,
        site -> Text,
        model -> Text,
        kind -> Text,
        body -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    proposals (origin, seq) {
        origin -> Text,
        seq -> BigInt,
        site -> Text,
        model -> Text,
        base_version -> Nullable<Integer>,
        author -> Text,
        reason -> Nullable<Text>,
        state -> Text,
        version -> Nullable<Integer>,
        decision -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::joinable!(peer_sites -> peers (peer_id));
diesel::joinable!(peer_sites -> sites (site_id));
diesel::joinable!(file_server_sites -> file_servers (file_server_id));
diesel::joinable!(file_server_sites -> sites (site_id));

diesel::allow_tables_to_appear_in_same_query!(
    data_centre,
    peers,
    peer_sites,
    file_servers,
    file_server_sites,
    federation_log,
    proposals,
    sites,
    role_categories,
    components,
    roles,
    role_versions,
    role_version_components,
    role_version_parameters,
    models,
    model_versions,
    model_version_roles,
    rollouts,
    rollout_devices,
    inventories,
    drifts,
    devices,
    commands,
    exchanges,
    scripts,
    script_steps,
    enrolment_tokens,
    device_certificates,
    operators,
    operator_rights,
    audit_log,
    enrolment_requests,
    operator_certificates,
    console_sessions,
    operator_groups,
    group_members,
);
